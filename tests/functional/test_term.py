"""The terminal backend (ui/term.c) on real terminals.

term-check draws a screen of hostile and hard text (escape sequences,
CR, backspaces, bidi overrides, ZWJ families, flags, skin tones,
combining marks, CJK, invalid UTF-8, a 4,096-character word) through the
real path: sanitiser, wrap and cut, canvas, cellmap, ncurses. It writes
what the terminal should then show. Here it runs in tmux at three sizes,
and the captured screen must equal that text line for line, so every
column lines up; and it runs in a pty, where the bytes it writes must
hold none of the sequences the messages carried.
"""
import errno
import fcntl
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402

TERM_CHECK = os.path.join(R.BUILD, "tests", "term-check")

# What the messages carry, which must never reach a terminal as bytes.
INJECTED = [
    b"\x1b]52;",            # OSC 52: write the clipboard
    b"\x1b]8;",             # OSC 8: hyperlink
    b"\x1b[?1000h",         # mouse reporting on
    b"\x1b[?1006h",
    b"\x1b[6n",             # device status report (answers into input)
    b"\x1b[99;99H",         # a cursor move no 80x24 screen needs
    b"\x1b[38;2;1;2;3m",    # a truecolour SGR ncurses never sends here
    b"\xe2\x80\xae",        # RIGHT-TO-LEFT OVERRIDE
    b"\xe2\x81\xa6",        # LEFT-TO-RIGHT ISOLATE
    b"\xff\xfe",            # invalid UTF-8, as sent
    b"\xc3\x28",
    b"\x07",                # BEL from a message (ncurses' own needs none)
]


def wait_for(cond, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


@unittest.skipUnless(shutil.which("tmux"), "tmux is not installed")
class TermInTmux(unittest.TestCase):
    """The captured screen is exactly what term-check says it drew."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="glivi-term-")
        self.socket = os.path.join(self.dir, "tmux.sock")

    def tearDown(self):
        subprocess.run(["tmux", "-S", self.socket, "kill-server"],
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.socket, "-f", os.devnull]
                              + list(args), check=True,
                              capture_output=True, text=True).stdout

    def check_size(self, w, h):
        expected = os.path.join(self.dir, "expected-%dx%d" % (w, h))
        self.tmux("new-session", "-d", "-x", str(w), "-y", str(h),
                  "env", "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
                  "TERM=tmux-256color", TERM_CHECK, expected)
        wait_for(lambda: os.path.exists(expected), what="term-check")
        with open(expected, encoding="utf-8") as f:
            want = [line.rstrip(" ") for line in f.read().split("\n")[:h]]
        self.assertEqual(len(want), h)

        def screen():
            got = self.tmux("capture-pane", "-p", "-t", "0")
            return [line.rstrip(" ") for line in got.split("\n")[:h]]

        try:
            wait_for(lambda: screen() == want, timeout=5,
                     what="the screen to settle")
        except AssertionError:
            self.assertEqual(screen(), want)
        # The whole message set is on screen, sanitised.
        text = "\n".join(want)
        self.assertIn("\u241b]52;c;", text)      # ESC shown as ␛
        self.assertIn("\U0001f1f3\U0001f1ff", text)  # a flag's two halves
        self.assertIn("\u4e2d\u6587", text)
        self.tmux("send-keys", "-t", "0", "q")
        # The session ends with term-check, and the server with it.
        wait_for(lambda: subprocess.run(
            ["tmux", "-S", self.socket, "has-session"],
            stderr=subprocess.DEVNULL).returncode != 0,
            what="term-check to exit")

    def test_80x24(self):
        self.check_size(80, 24)

    def test_120x40(self):
        self.check_size(120, 40)

    def test_200x50(self):
        self.check_size(200, 50)


class TermBytes(unittest.TestCase):
    """What term-check writes to a pty carries no injected sequence."""

    def test_no_injected_sequence_reaches_the_terminal(self):
        d = tempfile.mkdtemp(prefix="glivi-term-")
        self.addCleanup(shutil.rmtree, d, True)
        expected = os.path.join(d, "expected")
        env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8",
                   TERM="xterm-256color")
        env.pop("NO_COLOR", None)
        pid, fd = pty.fork()
        if pid == 0:
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ,
                            struct.pack("HHHH", 24, 80, 0, 0))
                os.execve(TERM_CHECK, [TERM_CHECK, expected], env)
            finally:
                os._exit(127)
        out = bytearray()

        def read_some(timeout):
            r, _, _ = select.select([fd], [], [], timeout)
            if not r:
                return False
            try:
                chunk = os.read(fd, 65536)
            except OSError as e:
                if e.errno == errno.EIO:
                    return None
                raise
            out.extend(chunk)
            return bool(chunk)

        deadline = time.monotonic() + 10
        while not os.path.exists(expected) and time.monotonic() < deadline:
            read_some(0.1)
        self.assertTrue(os.path.exists(expected), "term-check never drew")
        while read_some(0.3):
            pass
        os.write(fd, b"q")
        while read_some(1.0):
            pass
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertGreater(len(out), 1000)
        for seq in INJECTED:
            self.assertNotIn(seq, bytes(out), "found %r" % seq)
        # And what was drawn is there, sanitised (␛ is U+241B).
        self.assertIn("\u241b]52;c;".encode(), bytes(out))


if __name__ == "__main__":
    unittest.main()
