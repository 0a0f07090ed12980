/*
 * UTF-8 checks for text that arrives from outside (agents' requests now;
 * the terminal client's sanitiser builds on the same decoder later).
 */
#ifndef GLIVI_UTF8_H
#define GLIVI_UTF8_H

#include <stddef.h>

/* Well-formed UTF-8: no overlongs, surrogates or code points past U+10FFFF. */
int utf8_valid(const char *, size_t);
/* Length in UTF-16 code units (what Meta's text limits count), or -1 when
 * the text is not valid UTF-8. */
long utf8_utf16_length(const char *, size_t);
/* Contains a C0 control other than \t and \n, DEL, or a C1 control. */
int utf8_has_controls(const char *, size_t);

#endif
