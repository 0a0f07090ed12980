/*
 * Unit tests for src/core/hmac.c (webhook signatures, SHA-256) and, at the
 * end, src/core/secret.c (the files the app secret is read from). Known
 * answers were computed with `openssl dgst -sha256 -hmac`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/hmac.h"
#include "core/secret.h"
#include "core/xalloc.h"

#define BODY "{\"object\":\"whatsapp_business_account\",\"entry\":[]}"
#define SECRET "my_app_secret"
#define KNOWN_HEX \
	"1e948187320e1d8a8ab09e20b7172f8fe97e79394c0980b59b485e00288e389d"
#define KNOWN_SIG "sha256=" KNOWN_HEX

static int
verify(const char *header, const char *body, size_t len, const char **why)
{
	*why = NULL;
	return hmac_verify_signature(header, SECRET, strlen(SECRET), body, len,
	    why);
}

static void
expect_refused(const char *header, const char *want_why)
{
	const char *why;

	assert_int_equal(verify(header, BODY, strlen(BODY), &why), -1);
	assert_non_null(why);
	assert_string_equal(why, want_why);
}

/* Signing and verifying. */

static void
hmac_sign__gives_the_known_answer(void **state)
{
	char out[72];

	memset(out, 'X', sizeof out);
	hmac_sign(SECRET, strlen(SECRET), BODY, strlen(BODY), out);
	assert_string_equal(out, KNOWN_SIG);
	assert_int_equal(strlen(out), 71);
}

static void
hmac_sign__signs_an_empty_body(void **state)
{
	char out[72];

	hmac_sign(SECRET, strlen(SECRET), "", 0, out);
	assert_string_equal(out, "sha256=30bb2ab83d5e42814f3d42faeac59cbb"
				 "9e0ffef97d2c697133115cf266c72177");
}

static void
hmac_verify_signature__accepts_the_known_answer(void **state)
{
	const char *why;

	assert_int_equal(verify(KNOWN_SIG, BODY, strlen(BODY), &why), 0);
}

static void
hmac_verify_signature__accepts_upper_and_mixed_case_hex(void **state)
{
	char sig[72];
	const char *why;

	strcpy(sig, KNOWN_SIG);
	for (size_t i = 7; sig[i] != '\0'; i++)
		if (sig[i] >= 'a' && sig[i] <= 'f')
			sig[i] = (char)(sig[i] - 'a' + 'A');
	assert_int_equal(verify(sig, BODY, strlen(BODY), &why), 0);
	sig[8] = 'e'; /* one digit back to lower case */
	assert_int_equal(verify(sig, BODY, strlen(BODY), &why), 0);
}

static void
hmac_verify_signature__accepts_an_empty_body_signed_properly(void **state)
{
	char sig[72];
	const char *why;

	hmac_sign(SECRET, strlen(SECRET), "", 0, sig);
	assert_int_equal(verify(sig, "", 0, &why), 0);
	expect_refused(sig, "signature does not match the body");
}

static void
hmac_verify_signature__accepts_a_body_with_nul_bytes(void **state)
{
	static const char body[] = "{\"a\":\"\0\"}";
	char sig[72];
	const char *why;

	hmac_sign(SECRET, strlen(SECRET), body, sizeof body - 1, sig);
	assert_int_equal(verify(sig, body, sizeof body - 1, &why), 0);
	/* The bytes after the NUL are signed too. */
	assert_int_equal(verify(sig, body, 6, &why), -1);
}

static void
hmac_verify_signature__refuses_a_missing_header(void **state)
{
	expect_refused(NULL, "no X-Hub-Signature-256 header");
}

static void
hmac_verify_signature__refuses_a_header_without_the_sha256_prefix(void **state)
{
	static const char *bad[] = { KNOWN_HEX, "", "sha256", "sha256:"
		KNOWN_HEX, "SHA256=" KNOWN_HEX, " sha256=" KNOWN_HEX,
		"sha1=8d5a6bc4b9c8a4ae1b56d1e3e8f0a2d2c1f3a9b7", NULL };

	for (size_t i = 0; bad[i] != NULL; i++)
		expect_refused(bad[i],
		    "signature header does not start with sha256=");
}

static void
hmac_verify_signature__refuses_a_signature_that_is_not_64_digits(void **state)
{
	char sig[80];

	strcpy(sig, KNOWN_SIG);
	sig[7 + 63] = '\0';
	expect_refused(sig, "signature is not 64 hex digits");
	strcpy(sig, KNOWN_SIG "0");
	expect_refused(sig, "signature is not 64 hex digits");
	expect_refused(KNOWN_SIG "\n", "signature is not 64 hex digits");
	expect_refused(KNOWN_SIG " ", "signature is not 64 hex digits");
	expect_refused("sha256=", "signature is not 64 hex digits");
}

static void
hmac_verify_signature__refuses_non_hex_digits(void **state)
{
	static const char junk[] = "gG xz-+\x80\xff";
	char sig[72];

	for (size_t pos = 7; pos < 71; pos += 9) {
		for (size_t j = 0; j < sizeof junk - 1; j++) {
			strcpy(sig, KNOWN_SIG);
			sig[pos] = junk[j];
			expect_refused(sig, "signature is not hex");
		}
	}
}

static void
hmac_verify_signature__refuses_a_body_with_one_flipped_byte(void **state)
{
	char body[] = BODY;
	const char *why;

	for (size_t i = 0; i < sizeof body - 1; i++) {
		body[i] ^= 0x01;
		assert_int_equal(verify(KNOWN_SIG, body, sizeof body - 1, &why),
		    -1);
		assert_string_equal(why, "signature does not match the body");
		body[i] ^= 0x01;
	}
	/* A body one byte short, or one byte long, is another body. */
	assert_int_equal(verify(KNOWN_SIG, BODY, strlen(BODY) - 1, &why), -1);
	assert_int_equal(verify(KNOWN_SIG, BODY " ", strlen(BODY) + 1, &why),
	    -1);
}

static void
hmac_verify_signature__refuses_a_signature_with_one_flipped_digit(void **state)
{
	char sig[72];

	for (size_t i = 7; i < 71; i++) {
		strcpy(sig, KNOWN_SIG);
		sig[i] = sig[i] == '0' ? '1' : '0';
		expect_refused(sig, "signature does not match the body");
	}
}

static void
hmac_verify_signature__refuses_another_key(void **state)
{
	const char *why = NULL;

	assert_int_equal(hmac_verify_signature(KNOWN_SIG, "my_app_secreT", 13,
	    BODY, strlen(BODY), &why), -1);
	assert_string_equal(why, "signature does not match the body");
	assert_int_equal(hmac_verify_signature(KNOWN_SIG, SECRET, 12, BODY,
	    strlen(BODY), &why), -1);
}

static void
sha256__gives_the_known_answers(void **state)
{
	unsigned char d[32];
	char hex[65];

	sha256("abc", 3, d);
	hex_encode(d, 32, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	sha256("", 0, d);
	hex_encode(d, 32, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
				 "27ae41e4649b934ca495991b7852b855");
}

static void
hex_encode__writes_lower_case_digits_and_a_nul(void **state)
{
	static const unsigned char in[] = { 0x00, 0x0f, 0xa5, 0xff };
	char out[12];

	memset(out, 'X', sizeof out);
	hex_encode(in, sizeof in, out);
	assert_string_equal(out, "000fa5ff");
	assert_int_equal(out[9], 'X');
	hex_encode(in, 0, out);
	assert_string_equal(out, "");
}

/* Secret files. */

static char tmpdir[64];

static int
make_tmpdir(void **state)
{
	strcpy(tmpdir, "/tmp/glivi-test-secret-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
remove_tmpdir(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int rc = system(cmd);

	free(cmd);
	return rc == 0 ? 0 : -1;
}

/* Writes a file with an exact mode (not subject to the umask). */
static char *
write_secret(const char *name, const void *data, size_t len, mode_t mode)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void
expect_secret_refused(const char *path, const char *want_cause)
{
	size_t len = 12345;
	char *cause = NULL, *s;

	s = secret_read_file(path, &len, &cause);
	assert_null(s);
	assert_non_null(cause);
	assert_string_equal(cause, want_cause);
	assert_int_equal(len, 12345);
	free(cause);
}

static void
expect_secret(const char *path, const char *want, size_t want_len)
{
	size_t len = 0;
	char *cause = NULL, *s;

	s = secret_read_file(path, &len, &cause);
	assert_null(cause);
	assert_non_null(s);
	assert_int_equal(len, want_len);
	assert_memory_equal(s, want, want_len);
	assert_int_equal(s[len], '\0');
	secret_free(s, len);
}

static void
expect_mode_refused(mode_t mode, const char *mode_text)
{
	char *path = write_secret("shared", "s3cret\n", 7, mode);
	char *want = xasprintf("%s: mode %s lets group or others read it; a "
	    "secret file must be private (chmod 600 %s)", path, mode_text,
	    path);

	expect_secret_refused(path, want);
	free(want);
	free(path);
}

static void
secret_read_file__refuses_a_file_others_can_read(void **state)
{
	expect_mode_refused(0644, "0644");
	expect_mode_refused(0604, "0604");
	expect_mode_refused(0602, "0602");
	expect_mode_refused(0601, "0601");
}

static void
secret_read_file__refuses_a_file_its_group_can_read(void **state)
{
	expect_mode_refused(0640, "0640");
	expect_mode_refused(0610, "0610");
	expect_mode_refused(0660, "0660");
}

static void
secret_read_file__accepts_mode_600_and_strips_one_newline(void **state)
{
	char *path = write_secret("ok", "s3cret\n", 7, 0600);

	expect_secret(path, "s3cret", 6);
	free(path);
}

static void
secret_read_file__accepts_mode_400_and_no_newline(void **state)
{
	char *path = write_secret("ro", "s3cret", 6, 0400);

	expect_secret(path, "s3cret", 6);
	free(path);
}

static void
secret_read_file__strips_a_crlf_line_end(void **state)
{
	char *path = write_secret("crlf", "s3cret\r\n", 8, 0600);

	expect_secret(path, "s3cret", 6);
	free(path);
}

static void
secret_read_file__keeps_spaces_and_non_ascii_bytes(void **state)
{
	char *path = write_secret("utf8", " s3cr\xc3\xa9t \n", 10, 0600);

	expect_secret(path, " s3cr\xc3\xa9t ", 9);
	free(path);
}

static void
secret_read_file__refuses_an_empty_file(void **state)
{
	char *path = write_secret("empty", "", 0, 0600);
	char *want = xasprintf("%s: empty", path);

	expect_secret_refused(path, want);
	free(want);
	free(path);
	/* A lone newline is stripped, which leaves nothing. */
	path = write_secret("newline", "\n", 1, 0600);
	want = xasprintf("%s: empty", path);
	expect_secret_refused(path, want);
	free(want);
	free(path);
}

static void
secret_read_file__refuses_a_two_line_file(void **state)
{
	static const char *bodies[] = { "one\ntwo\n", "one\ntwo", "one\n\n",
		"\none", NULL };

	for (size_t i = 0; bodies[i] != NULL; i++) {
		char *path = write_secret("two", bodies[i], strlen(bodies[i]),
		    0600);
		char *want = xasprintf("%s: holds more than one line", path);

		expect_secret_refused(path, want);
		free(want);
		free(path);
	}
}

static void
secret_read_file__refuses_a_nul_byte(void **state)
{
	char *path = write_secret("nul", "ab\0cd\n", 6, 0600);
	char *want = xasprintf("%s: holds more than one line", path);

	expect_secret_refused(path, want);
	free(want);
	free(path);
}

static void
secret_read_file__refuses_a_directory(void **state)
{
	char *path = xasprintf("%s/dir", tmpdir);
	char *want = xasprintf("%s: not a regular file", path);

	assert_int_equal(mkdir(path, 0700), 0);
	expect_secret_refused(path, want);
	free(want);
	free(path);
}

static void
secret_read_file__refuses_a_symlink(void **state)
{
	char *target = write_secret("target", "s3cret\n", 7, 0600);
	char *path = xasprintf("%s/link", tmpdir);
	char *want = xasprintf("%s: Too many levels of symbolic links", path);

	assert_int_equal(symlink(target, path), 0);
	expect_secret_refused(path, want);
	free(want);
	free(path);
	free(target);
}

static void
secret_read_file__refuses_a_missing_file(void **state)
{
	char *path = xasprintf("%s/missing", tmpdir);
	char *want = xasprintf("%s: No such file or directory", path);

	expect_secret_refused(path, want);
	free(want);
	free(path);
}

static void
secret_read_file__refuses_a_file_over_64_kib(void **state)
{
	size_t n = 64 * 1024 + 1;
	char *big = xmalloc(n), *path, *want;

	memset(big, 'a', n);
	path = write_secret("big", big, n, 0600);
	want = xasprintf("%s: larger than 64 KiB; not a secret", path);
	expect_secret_refused(path, want);
	free(want);
	free(path);
	/* Exactly 64 KiB is still a secret. */
	path = write_secret("max", big, n - 1, 0600);
	{
		size_t len = 0;
		char *cause = NULL, *s = secret_read_file(path, &len, &cause);

		assert_non_null(s);
		assert_int_equal(len, n - 1);
		secret_free(s, len);
	}
	free(path);
	free(big);
}

static void
secret_free__accepts_null(void **state)
{
	secret_free(NULL, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hmac_sign__gives_the_known_answer),
		cmocka_unit_test(hmac_sign__signs_an_empty_body),
		cmocka_unit_test(hmac_verify_signature__accepts_the_known_answer),
		cmocka_unit_test(hmac_verify_signature__accepts_upper_and_mixed_case_hex),
		cmocka_unit_test(hmac_verify_signature__accepts_an_empty_body_signed_properly),
		cmocka_unit_test(hmac_verify_signature__accepts_a_body_with_nul_bytes),
		cmocka_unit_test(hmac_verify_signature__refuses_a_missing_header),
		cmocka_unit_test(hmac_verify_signature__refuses_a_header_without_the_sha256_prefix),
		cmocka_unit_test(hmac_verify_signature__refuses_a_signature_that_is_not_64_digits),
		cmocka_unit_test(hmac_verify_signature__refuses_non_hex_digits),
		cmocka_unit_test(hmac_verify_signature__refuses_a_body_with_one_flipped_byte),
		cmocka_unit_test(hmac_verify_signature__refuses_a_signature_with_one_flipped_digit),
		cmocka_unit_test(hmac_verify_signature__refuses_another_key),
		cmocka_unit_test(sha256__gives_the_known_answers),
		cmocka_unit_test(hex_encode__writes_lower_case_digits_and_a_nul),
		cmocka_unit_test(secret_read_file__refuses_a_file_others_can_read),
		cmocka_unit_test(secret_read_file__refuses_a_file_its_group_can_read),
		cmocka_unit_test(secret_read_file__accepts_mode_600_and_strips_one_newline),
		cmocka_unit_test(secret_read_file__accepts_mode_400_and_no_newline),
		cmocka_unit_test(secret_read_file__strips_a_crlf_line_end),
		cmocka_unit_test(secret_read_file__keeps_spaces_and_non_ascii_bytes),
		cmocka_unit_test(secret_read_file__refuses_an_empty_file),
		cmocka_unit_test(secret_read_file__refuses_a_two_line_file),
		cmocka_unit_test(secret_read_file__refuses_a_nul_byte),
		cmocka_unit_test(secret_read_file__refuses_a_directory),
		cmocka_unit_test(secret_read_file__refuses_a_symlink),
		cmocka_unit_test(secret_read_file__refuses_a_missing_file),
		cmocka_unit_test(secret_read_file__refuses_a_file_over_64_kib),
		cmocka_unit_test(secret_free__accepts_null),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
