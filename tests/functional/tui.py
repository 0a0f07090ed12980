"""Drive the real glivi-tui screen in a real terminal: tmux.

A Screen runs glivi-tui (with a Client's config and private XDG
directories) in a tmux server of its own, sends keys the way a terminal
would, and reads the screen back as text with capture-pane. Every wait is
on a condition with a deadline; close() stops the server and with it the
program.
"""
import os
import shutil
import subprocess
import time

from client import TUI


class Screen:
    def __init__(self, client, width=80, height=24, args=(), env=None):
        self.client = client
        self.dir = client.dir
        self.socket = os.path.join(self.dir, "tmux-%d.sock" % id(self))
        self.conf = os.path.join(self.dir, "tmux.conf")
        with open(self.conf, "w") as f:
            # Keep the pane after the program exits, to read its status.
            f.write("set -g remain-on-exit on\n"
                    "set -g default-terminal tmux-256color\n"
                    "set -g escape-time 0\n"
                    "set -g status off\n")
        e = client.env()
        e.update(env or {})
        self.env = e
        cmd = ["env"] + ["%s=%s" % kv for kv in sorted(e.items())
                         if kv[0] in ("HOME", "XDG_CONFIG_HOME",
                                      "XDG_DATA_HOME", "LC_ALL", "LANG",
                                      "TZ", "NO_COLOR", "VISUAL", "EDITOR",
                                      "ASAN_OPTIONS", "UBSAN_OPTIONS",
                                      "PATH")]
        cmd += [TUI, "-c", client.config] + list(args)
        # The shell around it writes its exit status where we read it
        # (tmux does not always keep a pane's status).
        self.status_file = os.path.join(self.dir, "exit-%d" % id(self))
        if os.path.exists(self.status_file):
            os.unlink(self.status_file)
        wrapper = ['sh', '-c', '"$@"; echo $? > "$0"', self.status_file]
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height),
                  *(wrapper + cmd))

    def tmux(self, *args, check=True):
        r = subprocess.run(["tmux", "-S", self.socket, "-f", self.conf]
                           + list(args), capture_output=True, text=True)
        if check and r.returncode != 0:
            raise AssertionError("tmux %s: %s" % (" ".join(args),
                                                  r.stderr.strip()))
        return r.stdout

    def text(self):
        """The screen, one line per row, trailing spaces trimmed."""
        out = self.tmux("capture-pane", "-p", "-t", "0")
        if out.endswith("\n"):
            out = out[:-1]
        return "\n".join(line.rstrip() for line in out.split("\n"))

    def rows(self):
        return self.text().split("\n")

    def wait(self, what, timeout=15.0):
        """Until the screen shows what (a string, or a predicate of the
        screen's text); returns the text."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            if self.dead():
                break
            text = self.text()
            if (what(text) if callable(what) else what in text):
                return text
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %r; the screen:\n%s%s"
                             % (what if not callable(what) else "condition",
                                text, self.exit_note()))

    def wait_gone(self, what, timeout=15.0):
        return self.wait(lambda t: what not in t, timeout)

    def keys(self, *keys):
        """Keys by tmux name: Enter, Escape, C-n, M-Enter, PageDown..."""
        self.tmux("send-keys", "-t", "0", *keys)

    def type(self, text):
        """Literal text, as typed."""
        self.tmux("send-keys", "-t", "0", "-l", text)

    def paste(self, text):
        """A bracketed paste, as a terminal sends one."""
        self.tmux("set-buffer", "--", text)
        self.tmux("paste-buffer", "-p", "-t", "0")

    def resize(self, width, height):
        self.tmux("resize-window", "-t", "0", "-x", str(width), "-y",
                  str(height))

    def size(self):
        out = self.tmux("display-message", "-p", "-t", "0",
                        "#{pane_width} #{pane_height}")
        w, h = out.split()
        return int(w), int(h)

    def dead(self):
        return self.exit_status() is not None

    def exit_status(self):
        """None while running; then the exit status (128 + N for a
        signal, as the shell reports it)."""
        try:
            with open(self.status_file) as f:
                text = f.read().strip()
        except FileNotFoundError:
            return None
        return int(text) if text.isdigit() else None

    def wait_exit(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.exit_status()
            if st is not None:
                return st
            time.sleep(0.05)
        raise AssertionError("glivi-tui did not exit; the screen:\n"
                             + self.text())

    def exit_note(self):
        st = self.exit_status()
        return "" if st is None else "\n(glivi-tui exited %d)" % st

    def close(self):
        subprocess.run(["tmux", "-S", self.socket, "kill-server"],
                       stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            os.unlink(self.socket)
        except OSError:
            pass


def have_tmux():
    return shutil.which("tmux") is not None
