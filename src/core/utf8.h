/*
 * UTF-8 checks for text that arrives from outside (agents' requests now;
 * the terminal client's sanitiser builds on the same decoder later).
 */
#ifndef GLIVI_UTF8_H
#define GLIVI_UTF8_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* Decodes one code point from the n bytes at s; returns its length, or 0
 * when malformed, cut short or n is 0. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Well-formed UTF-8: no overlongs, surrogates or code points past U+10FFFF. */
int utf8_valid(const char *, size_t);
/* Length in UTF-16 code units (what Meta's text limits count), or -1 when
 * the text is not valid UTF-8. */
long utf8_utf16_length(const char *, size_t);
/* Contains a C0 control other than \t and \n, DEL, or a C1 control. */
int utf8_has_controls(const char *, size_t);

/*
 * The one sanitiser for untrusted text (customers' messages, names, error
 * texts from outside) before any screen, title, log or command sees it:
 * invalid UTF-8 and C1 controls become U+FFFD, C0 controls and DEL their
 * visible Control Pictures (ESC shows as U+241B), bidi overrides and
 * isolates U+FFFD, tabs a space, a lone CR a space. Newlines (and U+2028,
 * U+2029) stay only with UTF8_KEEP_NEWLINES, else become spaces. Appends
 * to out.
 *
 * UTF8_DROP_CONTROLS is for text a user types or pastes into an editor,
 * where a picture of a control would be sent as if meant: C0 controls
 * (other than tab, CR and newline, which are handled as above), DEL and
 * C1 controls are dropped instead of shown.
 */
#define UTF8_KEEP_NEWLINES 0x1
#define UTF8_DROP_CONTROLS 0x2
void utf8_sanitize(const char *, size_t, int flags, struct buf *out);

#endif
