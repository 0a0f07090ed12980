/*
 * Terminal bytes to events: a byte-at-a-time state machine, so that how
 * reads split a sequence never changes what it means. It owns only its
 * buffers; it never reads the terminal, sleeps or looks at a clock.
 */
#include "ui/input.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "ui/text.h"

#define PASTE_START "\033[200~"
#define PASTE_END "\033[201~"
#define PASTE_END_LEN 6
#define FFFD 0xfffdu
/* A parameter larger than any key or modifier: the sequence is bad. */
#define PARAM_MAX 0x10ffffu
#define NPARAMS 4

enum state {
	S_GROUND,
	S_UTF8,	     /* inside a character; meta says if ESC led it */
	S_ESC,	     /* after ESC */
	S_ESC_ESC,   /* after ESC ESC: M-Escape, or Meta and a sequence */
	S_CSI,	     /* after ESC [ */
	S_CSI_LINUX, /* after ESC [ [: the Linux console's F1-F5 */
	S_SS3,	     /* after ESC O */
	S_MOUSE,     /* skipping the three bytes of an X10 mouse report */
	S_PASTE
};

struct input {
	/* Fed and not yet read. */
	char *buf;
	size_t len, off, cap;
	uint64_t fed, eaten;

	/* input_flush(): settle what is held once `eaten` reaches this. */
	int flush;
	uint64_t flush_at;

	enum state state;
	int meta;

	/* The sequence or character being read, and whether it outgrew seq. */
	char seq[INPUT_SEQ_MAX];
	size_t seqlen;
	int seq_over;
	size_t utf_need;
	unsigned mouse_left;

	/* A paste: its bytes so far, and how much of PASTE_END matched. */
	struct buf paste;
	size_t marker;
	int paste_over;

	/* What the last event points to. */
	char raw[INPUT_SEQ_MAX];
	struct buf text;
};

/* What a step did with the byte: read it, and whether *ev was filled. */
#define STEP_EAT 0x1
#define STEP_EVENT 0x2

struct input *
input_new(void)
{
	struct input *in = xcalloc(1, sizeof *in);

	buf_init(&in->paste);
	buf_init(&in->text);
	return in;
}

void
input_free(struct input *in)
{
	if (in == NULL)
		return;
	free(in->buf);
	buf_free(&in->paste);
	buf_free(&in->text);
	free(in);
}

void
input_feed(struct input *in, const char *s, size_t n)
{
	if (n == 0)
		return;
	/* What was read is gone: keep only the unread tail. */
	if (in->off > 0) {
		memmove(in->buf, in->buf + in->off, in->len - in->off);
		in->len -= in->off;
		in->off = 0;
	}
	if (in->len + n > in->cap) {
		in->cap = in->len + n < 256 ? 256 : in->len + n;
		in->buf = xrealloc(in->buf, in->cap);
	}
	memcpy(in->buf + in->len, s, n);
	in->len += n;
	in->fed += n;
}

int
input_pending(const struct input *in)
{
	if (in->state == S_PASTE)
		return INPUT_PENDING_PASTE;
	if (in->state != S_GROUND)
		return INPUT_PENDING_KEY;
	return INPUT_PENDING_NONE;
}

void
input_flush(struct input *in)
{
	in->flush = 1;
	in->flush_at = in->fed;
}

static void
seq_add(struct input *in, unsigned char c)
{
	if (in->seqlen < sizeof in->seq)
		in->seq[in->seqlen++] = (char)c;
	else
		in->seq_over = 1;
}

static void
seq_start(struct input *in, enum state st, unsigned char c)
{
	in->state = st;
	in->seqlen = 0;
	in->seq_over = 0;
	seq_add(in, c);
}

/* Ends what is held: the event's raw bytes are seq, and the state ground. */
static int
emit(struct input *in, struct input_event *ev, enum input_type type,
    key_code key)
{
	memset(ev, 0, sizeof *ev);
	ev->type = type;
	ev->key = key;
	memcpy(in->raw, in->seq, in->seqlen);
	ev->raw = in->raw;
	ev->rawlen = in->seqlen;
	in->state = S_GROUND;
	in->meta = 0;
	in->seqlen = 0;
	in->seq_over = 0;
	return STEP_EVENT;
}

/* The key of a C0 control byte or DEL. */
static key_code
control_key(unsigned char c)
{
	switch (c) {
	case 0x00:
		return KEYC_CTRL | ' ';
	case 0x08:
	case 0x7f:
		return KEYC_BSPACE;
	case 0x09:
		return KEYC_TAB;
	case 0x0a:
	case 0x0d:
		return KEYC_ENTER;
	case 0x1b:
		return KEYC_ESCAPE;
	}
	if (c <= 0x1a)
		return KEYC_CTRL | (key_code)('a' + c - 1);
	return KEYC_CTRL | (key_code)"\\]^_"[c - 0x1c];
}

/*
 * A base key and modifier bits as key_parse() would spell them, so that
 * what a terminal sends finds its binding (see ui/key.h).
 */
static key_code
normalise(key_code base, key_code mods)
{
	if (base < KEYC_NAMED && (mods & KEYC_SHIFT)) {
		/* A shifted character is itself. */
		if (base >= 'a' && base <= 'z')
			base -= 'a' - 'A';
		mods &= ~KEYC_SHIFT;
	}
	if (base == KEYC_TAB && (mods & KEYC_SHIFT)) {
		base = KEYC_BTAB;
		mods &= ~KEYC_SHIFT;
	}
	if (base == KEYC_BTAB)
		mods &= ~KEYC_SHIFT;
	if (base < KEYC_NAMED && (mods & KEYC_CTRL)) {
		if (base >= 'A' && base <= 'Z')
			base += 'a' - 'A';
		switch (base) {
		case 'i':
			return (mods & ~KEYC_CTRL) | KEYC_TAB;
		case 'm':
			return (mods & ~KEYC_CTRL) | KEYC_ENTER;
		case '[':
			return (mods & ~KEYC_CTRL) | KEYC_ESCAPE;
		case '@':
			base = ' ';
			break;
		}
	}
	return mods | base;
}

/* xterm's modifier parameter (1 + bits) to key bits. */
static key_code
param_mods(unsigned p)
{
	key_code mods = 0;

	if (p < 2)
		return 0;
	p--;
	if (p & 1)
		mods |= KEYC_SHIFT;
	if (p & 2)
		mods |= KEYC_META;
	if (p & 4)
		mods |= KEYC_CTRL;
	return mods;
}

/* A code point named by a sequence (CSI u, modifyOtherKeys) as a key. */
static int
codepoint_key(unsigned cp, key_code *k)
{
	if (cp < 0x20 || cp == 0x7f) {
		*k = control_key((unsigned char)cp);
		return 0;
	}
	/* C1, surrogates, past Unicode, kitty's private-use key codes. */
	if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp > 0x10ffff || (cp >= 0xe000 && cp <= 0xf8ff))
		return -1;
	*k = cp;
	return 0;
}

/* The keys of "\e[N~": xterm's, the VT220's and the Linux console's. */
static key_code
tilde_key(unsigned n)
{
	switch (n) {
	case 1:
	case 7:
		return KEYC_HOME;
	case 2:
		return KEYC_INSERT;
	case 3:
		return KEYC_DELETE;
	case 4:
	case 8:
		return KEYC_END;
	case 5:
		return KEYC_PAGEUP;
	case 6:
		return KEYC_PAGEDOWN;
	case 11:
	case 12:
	case 13:
	case 14:
	case 15:
		return KEYC_F1 + (n - 11);
	case 17:
	case 18:
	case 19:
	case 20:
	case 21:
		return KEYC_F1 + 5 + (n - 17);
	case 23:
	case 24:
		return KEYC_F1 + 10 + (n - 23);
	}
	return 0;
}

/* The keys of a final letter, in CSI ("\e[1;5A") and SS3 ("\eOA"). */
static key_code
letter_key(unsigned char f)
{
	switch (f) {
	case 'A':
		return KEYC_UP;
	case 'B':
		return KEYC_DOWN;
	case 'C':
		return KEYC_RIGHT;
	case 'D':
		return KEYC_LEFT;
	case 'H':
		return KEYC_HOME;
	case 'F':
		return KEYC_END;
	case 'P':
	case 'Q':
	case 'R':
	case 'S':
		return KEYC_F1 + (key_code)(f - 'P');
	}
	return 0;
}

/*
 * Parameters: up to NPARAMS numbers split by ';', each perhaps with
 * ':' sub-parameters (kitty), of which the first is the number and the
 * second kept in sub[] (kitty's event type after the modifier). Returns
 * how many, or -1 when the text is not that (private markers, too many,
 * too large).
 */
static int
parse_params(const char *s, size_t n, unsigned p[NPARAMS],
    unsigned sub[NPARAMS])
{
	size_t i;
	int np = 0, nsub = 0;
	unsigned v = 0;
	int have = 0;

	memset(p, 0, NPARAMS * sizeof p[0]);
	memset(sub, 0, NPARAMS * sizeof sub[0]);
	if (n == 0)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == ';' || s[i] == ':') {
			if (np >= NPARAMS)
				return -1;
			if (nsub == 0)
				p[np] = have ? v : 0;
			else if (nsub == 1)
				sub[np] = have ? v : 0;
			if (i < n && s[i] == ':')
				nsub++;
			else {
				np++;
				nsub = 0;
			}
			v = 0;
			have = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > PARAM_MAX)
			return -1;
		have = 1;
	}
	return np;
}

/* A whole CSI sequence in seq: what it is. */
static int
csi_event(struct input *in, struct input_event *ev)
{
	unsigned char f = (unsigned char)in->seq[in->seqlen - 1];
	unsigned p[NPARAMS], sub[NPARAMS];
	key_code k, mods = in->meta ? KEYC_META : 0;
	size_t lead = in->meta ? 3 : 2; /* "\e\e[" or "\e[" */
	int np;

	if (in->seq_over)
		return emit(in, ev, INPUT_UNKNOWN, 0);
	np = parse_params(in->seq + lead, in->seqlen - lead - 1, p, sub);
	if (np < 0)
		return emit(in, ev, INPUT_UNKNOWN, 0);
	/* Kitty's release events (2 is a repeat, which is a press). */
	if (np >= 2 && sub[1] == 3)
		return emit(in, ev, INPUT_UNKNOWN, 0);

	if (f == 'I' && np == 0 && !in->meta)
		return emit(in, ev, INPUT_FOCUS_IN, 0);
	if (f == 'O' && np == 0 && !in->meta)
		return emit(in, ev, INPUT_FOCUS_OUT, 0);
	if (f == 'M' && np == 0) {
		/* An X10 mouse report: three raw bytes follow. */
		in->state = S_MOUSE;
		in->mouse_left = 3;
		return 0;
	}
	if (f == 'Z' && np <= 2) {
		k = normalise(KEYC_BTAB, mods | param_mods(p[1]));
		return emit(in, ev, INPUT_KEY, k);
	}
	/* rxvt: "\e[a" is S-Up, and so on. */
	if (f >= 'a' && f <= 'd' && np == 0) {
		k = letter_key((unsigned char)(f - 'a' + 'A'));
		return emit(in, ev, INPUT_KEY, mods | KEYC_SHIFT | k);
	}
	if ((k = letter_key(f)) != 0 && np <= 2) {
		k = normalise(k, mods | param_mods(p[1]));
		return emit(in, ev, INPUT_KEY, k);
	}
	if (f == '~' && np == 1 && p[0] == 200 && !in->meta) {
		in->state = S_PASTE;
		in->seqlen = 0;
		in->marker = 0;
		in->paste_over = 0;
		buf_reset(&in->paste);
		return 0;
	}
	if (f == '~' && np == 3 && p[0] == 27) {
		/* xterm's modifyOtherKeys: 27 ; modifier ; code point. */
		if (codepoint_key(p[2], &k) != 0)
			return emit(in, ev, INPUT_UNKNOWN, 0);
		k = normalise(KEYC_BASE(k),
		    mods | (k & KEYC_MODS) | param_mods(p[1]));
		return emit(in, ev, INPUT_KEY, k);
	}
	if (f == 'u' && np >= 1 && np <= 3) {
		if (codepoint_key(p[0], &k) != 0)
			return emit(in, ev, INPUT_UNKNOWN, 0);
		k = normalise(KEYC_BASE(k),
		    mods | (k & KEYC_MODS) | param_mods(p[1]));
		return emit(in, ev, INPUT_KEY, k);
	}
	if ((f == '~' || f == '^' || f == '$' || f == '@') && np >= 1 &&
	    np <= 2 && (k = tilde_key(p[0])) != 0) {
		/* rxvt says Ctrl and Shift with the final byte. */
		if (f == '^' || f == '@')
			mods |= KEYC_CTRL;
		if (f == '$' || f == '@')
			mods |= KEYC_SHIFT;
		k = normalise(k, mods | param_mods(p[1]));
		return emit(in, ev, INPUT_KEY, k);
	}
	return emit(in, ev, INPUT_UNKNOWN, 0);
}

/* A whole SS3 sequence in seq: "\eOA", "\eO5A" (old xterm), keypad. */
static int
ss3_event(struct input *in, struct input_event *ev)
{
	static const char keypad[] = "0123456789"; /* 'p' to 'y' */
	unsigned char f = (unsigned char)in->seq[in->seqlen - 1];
	unsigned p[NPARAMS], sub[NPARAMS];
	key_code k, mods = in->meta ? KEYC_META : 0;
	size_t lead = in->meta ? 3 : 2; /* "\e\eO" or "\eO" */
	int np;

	if (in->seq_over)
		return emit(in, ev, INPUT_UNKNOWN, 0);
	np = parse_params(in->seq + lead, in->seqlen - lead - 1, p, sub);
	if (np < 0 || np > 2)
		return emit(in, ev, INPUT_UNKNOWN, 0);
	/* "\eO5A" and "\eO1;5A" both carry the modifier last. */
	mods |= param_mods(np == 2 ? p[1] : p[0]);
	if ((k = letter_key(f)) != 0)
		return emit(in, ev, INPUT_KEY, normalise(k, mods));
	/* rxvt: "\eOa" is C-Up, and so on. */
	if (f >= 'a' && f <= 'd')
		return emit(in, ev, INPUT_KEY, normalise(letter_key(
		    (unsigned char)(f - 'a' + 'A')), mods | KEYC_CTRL));
	if (f == 'M')
		return emit(in, ev, INPUT_KEY, normalise(KEYC_ENTER, mods));
	if (f >= 'p' && f <= 'y')
		k = (key_code)keypad[f - 'p'];
	else if (f == 'j')
		k = '*';
	else if (f == 'k')
		k = '+';
	else if (f == 'l')
		k = ',';
	else if (f == 'm')
		k = '-';
	else if (f == 'n')
		k = '.';
	else if (f == 'o')
		k = '/';
	else if (f == 'X')
		k = '=';
	else
		return emit(in, ev, INPUT_UNKNOWN, 0);
	return emit(in, ev, INPUT_KEY, normalise(k, mods));
}

/* Bytes a character needs after its lead, or 0 when it cannot lead. */
static size_t
utf8_follow(unsigned char c)
{
	if (c >= 0xc2 && c <= 0xdf)
		return 1;
	if (c >= 0xe0 && c <= 0xef)
		return 2;
	if (c >= 0xf0 && c <= 0xf4)
		return 3;
	return 0;
}

/* Whether c may come next in the character begun in seq (after any ESC). */
static int
utf8_fits(const unsigned char *ch, size_t have, unsigned char c)
{
	if ((c & 0xc0) != 0x80)
		return 0;
	if (have != 1)
		return 1;
	/* The second byte rules out overlongs, surrogates, past U+10FFFF. */
	switch (ch[0]) {
	case 0xe0:
		return c >= 0xa0;
	case 0xed:
		return c <= 0x9f;
	case 0xf0:
		return c >= 0x90;
	case 0xf4:
		return c <= 0x8f;
	}
	return 1;
}

/* The character in seq is done (or broken): its key. */
static int
utf8_event(struct input *in, struct input_event *ev, int whole)
{
	size_t start = in->meta ? 1 : 0;
	key_code mods = in->meta ? KEYC_META : 0;
	uint32_t cp = FFFD;

	if (whole)
		utf8_decode((const unsigned char *)in->seq + start,
		    in->seqlen - start, &cp);
	if (cp >= 0x80 && cp <= 0x9f)
		return emit(in, ev, INPUT_UNKNOWN, 0);
	return emit(in, ev, INPUT_KEY, mods | cp);
}

/* A byte that starts something, in ground or right after ESC. */
static int
step_start(struct input *in, unsigned char c, struct input_event *ev)
{
	key_code mods = in->meta ? KEYC_META : 0;

	if (c < 0x20 || c == 0x7f) {
		seq_add(in, c);
		return STEP_EAT | emit(in, ev, INPUT_KEY,
		    mods | control_key(c));
	}
	if (c < 0x80) {
		seq_add(in, c);
		return STEP_EAT | emit(in, ev, INPUT_KEY, mods | c);
	}
	seq_add(in, c);
	if ((in->utf_need = utf8_follow(c)) == 0)
		return STEP_EAT | emit(in, ev, INPUT_KEY, mods | FFFD);
	in->state = S_UTF8;
	return STEP_EAT;
}

static int
step_ground(struct input *in, unsigned char c, struct input_event *ev)
{
	in->meta = 0;
	in->seqlen = 0;
	in->seq_over = 0;
	if (c == 0x1b) {
		seq_start(in, S_ESC, c);
		return STEP_EAT;
	}
	return step_start(in, c, ev);
}

static int
step_esc(struct input *in, unsigned char c, struct input_event *ev)
{
	switch (c) {
	case 0x1b:
		seq_add(in, c);
		in->state = S_ESC_ESC;
		return STEP_EAT;
	case '[':
		seq_add(in, c);
		in->state = S_CSI;
		return STEP_EAT;
	case 'O':
		seq_add(in, c);
		in->state = S_SS3;
		return STEP_EAT;
	}
	in->meta = 1;
	return step_start(in, c, ev);
}

static int
step_esc_esc(struct input *in, unsigned char c, struct input_event *ev)
{
	/* "\e\e[A": Meta and a key sequence, as rxvt and some others send. */
	if (c == '[' || c == 'O') {
		in->meta = 1;
		seq_add(in, c);
		in->state = c == '[' ? S_CSI : S_SS3;
		return STEP_EAT;
	}
	/* Otherwise ESC ESC was M-Escape, and c starts afresh. */
	return emit(in, ev, INPUT_KEY, KEYC_META | KEYC_ESCAPE);
}

/* The CSI sequence so far has one or more digits after its lead. */
static int
csi_only_digits(const struct input *in, size_t lead)
{
	size_t i;

	if (in->seq_over || in->seqlen == lead)
		return 0;
	for (i = lead; i < in->seqlen; i++) {
		if (in->seq[i] < '0' || in->seq[i] > '9')
			return 0;
	}
	return 1;
}

static int
step_csi(struct input *in, unsigned char c, struct input_event *ev)
{
	size_t lead = in->meta ? 3 : 2; /* "\e\e[" or "\e[" */

	/* The Linux console's F1-F5: "\e[[A" to "\e[[E". */
	if (c == '[' && in->seqlen == lead && !in->seq_over) {
		seq_add(in, c);
		in->state = S_CSI_LINUX;
		return STEP_EAT;
	}
	/*
	 * rxvt ends Shift with an editing key in '$' ("\e[3$"), which is an
	 * intermediate byte elsewhere ("\e[?2027;2$y"): after nothing but
	 * digits it is taken as rxvt's final byte.
	 */
	if (c == '$' && csi_only_digits(in, lead)) {
		seq_add(in, c);
		return STEP_EAT | csi_event(in, ev);
	}
	if (c >= 0x20 && c <= 0x3f) {
		seq_add(in, c);
		return STEP_EAT;
	}
	if (c >= 0x40 && c <= 0x7e) {
		seq_add(in, c);
		return STEP_EAT | csi_event(in, ev);
	}
	/* A control or non-ASCII byte inside: broken; c starts afresh. */
	return emit(in, ev, INPUT_UNKNOWN, 0);
}

static int
step_csi_linux(struct input *in, unsigned char c, struct input_event *ev)
{
	key_code mods = in->meta ? KEYC_META : 0;

	if (c >= 'A' && c <= 'E') {
		seq_add(in, c);
		return STEP_EAT | emit(in, ev, INPUT_KEY,
		    mods | (KEYC_F1 + (key_code)(c - 'A')));
	}
	if (c >= 0x20 && c <= 0x7e) {
		seq_add(in, c);
		return STEP_EAT | emit(in, ev, INPUT_UNKNOWN, 0);
	}
	return emit(in, ev, INPUT_UNKNOWN, 0);
}

static int
step_ss3(struct input *in, unsigned char c, struct input_event *ev)
{
	if ((c >= '0' && c <= '9') || c == ';') {
		seq_add(in, c);
		return STEP_EAT;
	}
	if (c >= 0x40 && c <= 0x7e) {
		seq_add(in, c);
		return STEP_EAT | ss3_event(in, ev);
	}
	return emit(in, ev, INPUT_UNKNOWN, 0);
}

static int
step_utf8(struct input *in, unsigned char c, struct input_event *ev)
{
	size_t start = in->meta ? 1 : 0;

	if (!utf8_fits((unsigned char *)in->seq + start, in->seqlen - start,
	    c)) {
		/* Broken: what came so far is one U+FFFD, c starts afresh. */
		return utf8_event(in, ev, 0);
	}
	seq_add(in, c);
	if (--in->utf_need > 0)
		return STEP_EAT;
	return STEP_EAT | utf8_event(in, ev, 1);
}

static int
step_mouse(struct input *in, unsigned char c, struct input_event *ev)
{
	seq_add(in, c);
	if (--in->mouse_left > 0)
		return STEP_EAT;
	return STEP_EAT | emit(in, ev, INPUT_UNKNOWN, 0);
}

static void
paste_add(struct input *in, const char *s, size_t n)
{
	if (in->paste.len + n > INPUT_PASTE_MAX) {
		in->paste_over = 1;
		n = INPUT_PASTE_MAX - in->paste.len;
	}
	buf_add(&in->paste, s, n);
}

/*
 * The paste is over: its text cleaned (see input.h) into in->text. Past
 * the limit the raw bytes were cut anywhere, so a character cut in two is
 * dropped rather than shown as U+FFFD, and the clean text is cut again
 * between clusters if cleaning made it longer.
 */
static int
paste_event(struct input *in, struct input_event *ev, int flags)
{
	char *p = in->paste.data;
	size_t n = in->paste.len, i, j, off, k;

	if (in->paste_over) {
		flags |= INPUT_PASTE_TRUNCATED;
		for (i = n; i > 0 && n - i < 4; i--) {
			unsigned char c = (unsigned char)p[i - 1];

			if ((c & 0xc0) == 0xc0) {
				if (utf8_follow(c) + 1 > n - (i - 1))
					n = i - 1;
				break;
			}
			if ((c & 0x80) == 0)
				break;
		}
	}
	/* CR LF and a lone CR are line breaks. */
	for (i = 0, j = 0; i < n; i++) {
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue;
		p[j++] = p[i] == '\r' ? '\n' : p[i];
	}
	n = j;
	buf_reset(&in->text);
	buf_adds(&in->text, "");
	utf8_sanitize(p, n, UTF8_KEEP_NEWLINES | UTF8_DROP_CONTROLS,
	    &in->text);
	if (in->text.len > INPUT_PASTE_MAX) {
		flags |= INPUT_PASTE_TRUNCATED;
		for (off = 0; off < in->text.len; off += k) {
			k = text_cluster(in->text.data + off,
			    in->text.len - off, NULL);
			if (off + k > INPUT_PASTE_MAX)
				break;
		}
		in->text.len = off;
		in->text.data[off] = '\0';
	}
	buf_reset(&in->paste);
	in->marker = 0;
	in->paste_over = 0;
	in->seqlen = 0;
	emit(in, ev, INPUT_PASTE, 0);
	ev->text = in->text.data;
	ev->len = in->text.len;
	ev->flags = flags;
	ev->raw = NULL;
	ev->rawlen = 0;
	return STEP_EVENT;
}

/*
 * Inside a paste everything is text until PASTE_END. ESC appears in the
 * marker only at its start, so a mismatch can restart the match at c.
 */
static int
step_paste(struct input *in, unsigned char c, struct input_event *ev)
{
	if ((char)c == PASTE_END[in->marker]) {
		if (++in->marker == PASTE_END_LEN)
			return STEP_EAT | paste_event(in, ev, 0);
		return STEP_EAT;
	}
	if (in->marker > 0) {
		paste_add(in, PASTE_END, in->marker);
		in->marker = 0;
		return 0; /* c again, as a possible start of the marker */
	}
	paste_add(in, (const char *)&c, 1);
	return STEP_EAT;
}

/* input_flush(): what is held becomes events now. */
static int
settle(struct input *in, struct input_event *ev)
{
	switch (in->state) {
	case S_GROUND:
		return 0;
	case S_ESC:
		return emit(in, ev, INPUT_KEY, KEYC_ESCAPE);
	case S_ESC_ESC:
		return emit(in, ev, INPUT_KEY, KEYC_META | KEYC_ESCAPE);
	case S_UTF8:
		return utf8_event(in, ev, 0);
	case S_CSI:
	case S_SS3:
		/* "\e[" and "\eO" were Alt with a key. */
		if (in->seqlen == 2 && !in->meta)
			return emit(in, ev, INPUT_KEY,
			    KEYC_META | (key_code)in->seq[1]);
		return emit(in, ev, INPUT_UNKNOWN, 0);
	case S_CSI_LINUX:
	case S_MOUSE:
		return emit(in, ev, INPUT_UNKNOWN, 0);
	case S_PASTE:
		if (in->marker > 0)
			paste_add(in, PASTE_END, in->marker);
		return paste_event(in, ev, INPUT_PASTE_UNTERMINATED);
	}
	return 0;
}

int
input_next(struct input *in, struct input_event *ev)
{
	unsigned char c;
	int r;

	for (;;) {
		if (in->flush && in->eaten >= in->flush_at) {
			in->flush = 0;
			if (settle(in, ev))
				return 1;
		}
		if (in->off == in->len)
			return 0;
		c = (unsigned char)in->buf[in->off];
		switch (in->state) {
		case S_GROUND:
			r = step_ground(in, c, ev);
			break;
		case S_UTF8:
			r = step_utf8(in, c, ev);
			break;
		case S_ESC:
			r = step_esc(in, c, ev);
			break;
		case S_ESC_ESC:
			r = step_esc_esc(in, c, ev);
			break;
		case S_CSI:
			r = step_csi(in, c, ev);
			break;
		case S_CSI_LINUX:
			r = step_csi_linux(in, c, ev);
			break;
		case S_SS3:
			r = step_ss3(in, c, ev);
			break;
		case S_MOUSE:
			r = step_mouse(in, c, ev);
			break;
		case S_PASTE:
		default:
			r = step_paste(in, c, ev);
			break;
		}
		if (r & STEP_EAT) {
			in->off++;
			in->eaten++;
		}
		if (r & STEP_EVENT)
			return 1;
	}
}

/* Bytes in caret notation; what is not printable UTF-8 as \xNN. */
static void
describe_bytes(const char *s, size_t n, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		if (p[i] < 0x20) {
			buf_printf(out, "^%c", p[i] + 0x40);
			i++;
		} else if (p[i] == 0x7f) {
			buf_adds(out, "^?");
			i++;
		} else if (p[i] < 0x80) {
			buf_add(out, p + i, 1);
			i++;
		} else if ((k = utf8_decode(p + i, n - i, &cp)) > 0 &&
		    cp > 0x9f && !(cp >= 0x202a && cp <= 0x202e) &&
		    !(cp >= 0x2066 && cp <= 0x2069)) {
			buf_add(out, p + i, k);
			i += k;
		} else {
			buf_printf(out, "\\x%02x", p[i]);
			i++;
		}
	}
}

void
input_describe(const char *s, size_t n, struct buf *out)
{
	struct input *in = input_new();
	struct input_event ev;
	char name[KEY_NAME_MAX];
	size_t i;

	input_feed(in, s, n);
	input_flush(in);
	while (input_next(in, &ev)) {
		if (ev.type == INPUT_PASTE) {
			/* Its raw bytes are not kept: its markers stand in. */
			buf_printf(out,
			    "^[[200~...^[[201~  paste, %zu bytes%s%s\n", ev.len,
			    (ev.flags & INPUT_PASTE_TRUNCATED) ? ", cut" : "",
			    (ev.flags & INPUT_PASTE_UNTERMINATED) ?
				", no end" : "");
			continue;
		}
		describe_bytes(ev.raw, ev.rawlen, out);
		buf_adds(out, " ");
		for (i = 0; i < ev.rawlen; i++)
			buf_printf(out, " %02x", (unsigned char)ev.raw[i]);
		if (ev.rawlen == INPUT_SEQ_MAX)
			buf_adds(out, " ...");
		buf_adds(out, "  ");
		switch (ev.type) {
		case INPUT_KEY:
			key_name(ev.key, name);
			buf_adds(out, name);
			break;
		case INPUT_FOCUS_IN:
			buf_adds(out, "focus in");
			break;
		case INPUT_FOCUS_OUT:
			buf_adds(out, "focus out");
			break;
		default:
			buf_adds(out, "unknown sequence");
			break;
		}
		buf_adds(out, "\n");
	}
	input_free(in);
}
