"""The README's Quick start, as a newcomer runs it.

The first command (the demo) is read out of README.md and run exactly as
written, in a tmux terminal of its own, in a fresh `git clone` of this
repository's HEAD: it must install what is missing, build in the clone,
and open glivi-tui on a living demo inbox. The test reads the screen,
replies to a customer, waits for the reply's ticks to reach `read`, quits
with q, and checks that the demo left no process and no files behind.

The README's commands are also checked against what .ci/run runs and what
this test runs, so the three never drift apart.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402
from tui import Screen, have_tmux  # noqa: E402

README = os.path.join(R.SOURCE, "README.md")
CI_RUN = os.path.join(R.SOURCE, ".ci", "run")


def quick_start_commands(path=README):
    """The commands of the README's Quick start block, comments dropped."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Quick start\n(.*?)^## ", text, re.S | re.M)
    assert m, "README.md has no '## Quick start' section"
    block = re.search(r"^```sh\n(.*?)^```", m.group(1), re.S | re.M)
    assert block, "the Quick start has no ```sh block"
    cmds = []
    for line in block.group(1).splitlines():
        cmd = line.split("#", 1)[0].strip()
        if cmd:
            cmds.append(cmd)
    return cmds


def ci_command(path=CI_RUN):
    """What .ci/run hands over to: the argument of its exec line."""
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("exec "):
                return line[len("exec "):].strip()
    raise AssertionError(".ci/run has no exec line")


def demo_command():
    return quick_start_commands()[0]


class ReadmeCommands(unittest.TestCase):

    def test_readme_has_exactly_two_commands_demo_then_test(self):
        cmds = quick_start_commands()
        self.assertEqual(len(cmds), 2, cmds)
        self.assertEqual(cmds, ["scripts/demo", "scripts/test"])
        for c in cmds:
            path = os.path.join(R.SOURCE, c.split()[0])
            self.assertTrue(os.access(path, os.X_OK), path)

    def test_ci_runs_the_readmes_test_command(self):
        self.assertEqual(ci_command(), quick_start_commands()[1])

    def test_the_demo_test_runs_the_readmes_first_command(self):
        # The clean-clone test below runs demo_command(); it must be the
        # README's first line, and the demo script must be what it names.
        self.assertEqual(demo_command(), quick_start_commands()[0])
        self.assertTrue(demo_command().startswith("scripts/demo"))

    def test_both_scripts_install_what_is_missing_first(self):
        for c in quick_start_commands():
            with open(os.path.join(R.SOURCE, c.split()[0])) as f:
                self.assertIn("scripts/install-deps", f.read(), c)


def procs_under(*roots):
    """(pid, cmdline) of every process whose cwd or command line is under
    one of roots, other than tmux itself and this test."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink("/proc/%s/cwd" % pid)
        except OSError:
            continue
        if cmd.startswith("tmux"):
            continue
        if any(cwd == r or cwd.startswith(r + "/") or r in cmd
               for r in roots):
            out.append((int(pid), cmd.strip()))
    return out


@unittest.skipUnless(have_tmux(), "tmux is not installed")
@unittest.skipIf(os.environ.get("GLIVI_SANITIZE") == "ON",
                 "the demo builds its own plain build; once is enough")
class CleanCloneDemo(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # One clone for the class: the first demo builds in it, the others
        # find the build done.
        cls.dir = tempfile.mkdtemp(prefix="glivi-first-run-")
        cls.clone = os.path.join(cls.dir, "clone")
        subprocess.run(["git", "clone", "-q", "--no-hardlinks", R.SOURCE,
                        cls.clone], check=True, timeout=120)
        assert not os.path.exists(os.path.join(cls.clone, "build"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tmp-", dir=self.dir)

    def start(self, command, width=120, height=40):
        # A Screen running the demo instead of glivi-tui itself.
        s = Screen.__new__(Screen)
        s.dir = self.dir
        s.socket = os.path.join(self.tmp, "tmux.sock")
        s.conf = os.path.join(self.dir, "tmux.conf")
        with open(s.conf, "w") as f:
            f.write("set -g remain-on-exit on\n"
                    "set -g default-terminal tmux-256color\n"
                    "set -g escape-time 0\nset -g status off\n")
        s.status_file = os.path.join(self.dir, "exit-%s"
                                     % os.path.basename(self.tmp))
        env = ["LANG=C.UTF-8", "LC_ALL=C.UTF-8", "TZ=UTC",
               "TERM=tmux-256color", "TMPDIR=" + self.tmp, "HOME=" + self.dir,
               "PATH=" + os.environ.get("PATH", "/usr/bin:/bin")]
        self.addCleanup(self.stop, s)
        # Niced, so that building the clone slows the tests running beside
        # this one (ctest -j) as little as it can.
        r = subprocess.run(
            ["nice", "-n", "10", "tmux", "-S", s.socket, "-f", s.conf,
             "new-session", "-d", "-x", str(width), "-y", str(height),
             "-c", self.clone, "env", "-i", *env, "sh", "-c",
             command + '; echo $? > "$0"', s.status_file],
            capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return s

    def stop(self, s):
        # Only when the test failed half way: SIGTERM the demo's shell
        # (its trap stops the rest), then end tmux.
        if not s.dead():
            s.tmux("send-keys", "-t", "0", "C-c", check=False)
            for pid, cmd in procs_under(self.clone):
                if "scripts/demo" in cmd:
                    try:
                        os.kill(pid, 15)
                    except OSError:
                        pass
            deadline = time.monotonic() + 10
            while procs_under(self.clone, self.tmp) and \
                    time.monotonic() < deadline:
                time.sleep(0.1)
        s.close()

    def open_demo(self):
        s = self.start(demo_command())
        # Installing (a no-op when all is there) and building in the clone
        # (the first time).
        s.wait("Inbox: all", timeout=420)
        self.assertTrue(os.path.isfile(
            os.path.join(self.clone, "build", "glivi-tui")))
        t = s.wait(lambda t: "Jürgen Weiß" in t and " live " in t,
                   timeout=30)
        return s, t

    def demo_pid(self):
        pids = [pid for pid, cmd in procs_under(self.clone)
                if cmd.endswith("scripts/demo")]
        self.assertEqual(len(pids), 1, procs_under(self.clone))
        return pids[0]

    def assert_all_gone(self, timeout=20):
        deadline = time.monotonic() + timeout
        while procs_under(self.clone, self.tmp) and \
                time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(procs_under(self.clone, self.tmp), [])
        self.assertEqual([f for f in os.listdir(self.tmp)
                          if f.startswith("glivi-demo.")], [])

    def test_sigterm_to_the_demo_stops_everything(self):
        s, _ = self.open_demo()
        os.kill(self.demo_pid(), signal.SIGTERM)
        self.assertEqual(s.wait_exit(timeout=20), 143)
        self.assertIn("nothing is left running", s.text())
        self.assertEqual(procs_under(self.clone, self.tmp), [])
        self.assert_all_gone(0)

    def test_closing_the_terminal_sighup_stops_everything(self):
        s, _ = self.open_demo()
        self.demo_pid()
        s.tmux("kill-server")
        self.assert_all_gone()

    def test_readme_demo_on_a_clean_clone_opens_a_living_inbox(self):
        s, t = self.open_demo()
        # Demo conversations in several scripts, with statuses.
        for name in ("Inês Costa", "Chloe Taylor"):
            self.assertIn(name, t)
        # Open Jürgen's conversation and answer him from the compose line.
        s.keys("/")
        s.type("jürgen")
        s.wait("Search:")
        s.keys("Enter")
        s.wait(lambda t: "Kann ich sie abholen?" in t and "Search:" not in t)
        reply = "Klar, ab 9 Uhr im Laden (%d)" % os.getpid()
        s.keys("c")
        s.type(reply)
        s.wait("%d/4096" % len(reply))
        s.keys("Enter")

        def read(t):
            rows = t.split("\n")
            for i, r in enumerate(rows):
                if reply in r:
                    above = rows[max(0, i - 3):i]
                    return any("demo · read" in x for x in above)
            return False
        s.wait(lambda t: reply in t, timeout=20)
        s.wait(read, timeout=30)
        # Quit: leave compose, q (and yes, if it asks about unsent replies).
        s.keys("Escape")
        s.wait_gone("Enter sends")
        s.keys("q")
        deadline = time.monotonic() + 20
        while s.exit_status() is None and time.monotonic() < deadline:
            if "(y/n)" in s.text():
                s.keys("y")
            time.sleep(0.1)
        self.assertEqual(s.wait_exit(timeout=20), 0, s.text())
        self.assertIn("nothing is left running", s.text())
        # The demo waited for each process it stopped: none is left now.
        self.assertEqual(procs_under(self.clone, self.tmp), [])
        self.assert_all_gone(0)


if __name__ == "__main__":
    unittest.main()
