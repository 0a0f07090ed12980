"""cmake --install puts each file where a packager expects it.

Installs the build under test into a DESTDIR temp dir, with the prefix it
was configured with, and checks the tree: programs, man pages, key maps,
sample configurations, docs and the systemd unit, and nothing else; the
installed programs run.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402


def cache_value(name):
    with open(os.path.join(R.BUILD, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"^%s:[A-Z]+=(.*)$" % re.escape(name), line)
            if m:
                return m.group(1)
    return None


class Install(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="glivi-install-")
        cls.prefix = cache_value("CMAKE_INSTALL_PREFIX") or "/usr/local"
        env = dict(os.environ, DESTDIR=cls.dest)
        r = subprocess.run(["cmake", "--install", R.BUILD], env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        cls.root = cls.dest + cls.prefix
        cls.files = set()
        for d, _, names in os.walk(cls.dest):
            for n in names:
                cls.files.add(os.path.relpath(os.path.join(d, n), cls.root))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    EXPECTED = {
        "bin/glivi-tui", "bin/glivi-sim", "sbin/glivi-relay",
        "share/man/man1/glivi-tui.1", "share/man/man5/glivi-tui.conf.5",
        "share/man/man5/glivi-relay.conf.5", "share/man/man8/glivi-relay.8",
        "share/glivi-tui/keymaps/default.keys",
        "share/glivi-tui/keymaps/vi.keys",
        "share/glivi-tui/keymaps/emacs.keys",
        "share/doc/glivi-tui/examples/glivi-relay.conf",
        "share/doc/glivi-tui/examples/glivi-tui.conf",
        "share/doc/glivi-tui/README.md",
        "share/doc/glivi-tui/going-live.md",
        "share/doc/glivi-tui/configuration.md",
        "share/doc/glivi-tui/sync.md",
        "share/doc/glivi-tui/api.md",
        "share/doc/glivi-tui/client.md",
        "share/doc/glivi-tui/relay.md",
        "share/doc/glivi-tui/keymaps.md",
        "share/doc/glivi-tui/simulator.md",
        "share/doc/glivi-tui/screen.md",
        "share/doc/glivi-tui/data-protection.md",
        "share/doc/glivi-tui/scale-out.md",
        "share/doc/glivi-tui/examples/haproxy-glivi.cfg",
        "lib/systemd/system/glivi-relay.service",
        "lib/systemd/system/glivi-relay@.service",
    }

    def test_every_file_lands_where_a_packager_expects_it(self):
        self.assertEqual(self.files - self.EXPECTED, set(),
                         "installed but not expected")
        self.assertEqual(self.EXPECTED - self.files, set(), "missing")

    def test_nothing_is_written_outside_the_prefix(self):
        for f in self.files:
            self.assertFalse(f.startswith(".."), f)

    def test_programs_are_executable_and_print_their_version(self):
        for p in ("bin/glivi-tui", "bin/glivi-sim", "sbin/glivi-relay"):
            path = os.path.join(self.root, p)
            self.assertTrue(os.access(path, os.X_OK), p)
            r = subprocess.run([path, "--version"], capture_output=True,
                               text=True, timeout=10)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"^glivi-\w+ \d+\.\d+\.\d+")

    def test_data_files_are_the_sources_and_not_executable(self):
        pairs = [("share/glivi-tui/keymaps/vi.keys", "keymaps/vi.keys"),
                 ("share/doc/glivi-tui/examples/glivi-tui.conf",
                  "glivi-tui.conf"),
                 ("share/man/man8/glivi-relay.8", "man/glivi-relay.8")]
        for inst, src in pairs:
            path = os.path.join(self.root, inst)
            with open(path, "rb") as a, \
                    open(os.path.join(R.SOURCE, src), "rb") as b:
                self.assertEqual(a.read(), b.read(), inst)
            self.assertFalse(os.stat(path).st_mode & 0o111, inst)

    def test_systemd_unit_runs_the_installed_relay(self):
        with open(os.path.join(self.root,
                               "lib/systemd/system/glivi-relay.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=%s/sbin/glivi-relay serve -c "
                      "/etc/glivi-relay/glivi-relay.conf\n" % self.prefix,
                      unit)
        self.assertIn("User=glivi-relay", unit)
        self.assertIn("StateDirectory=glivi-relay", unit)

    def test_the_unit_for_several_relays_reads_its_instances_config(self):
        with open(os.path.join(self.root, "lib/systemd/system/"
                               "glivi-relay@.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=%s/sbin/glivi-relay serve -c "
                      "/etc/glivi-relay/%%i.conf\n" % self.prefix, unit)
        self.assertIn("Environment=PGPASSFILE=/etc/glivi-relay/pgpass\n",
                      unit)
        self.assertIn("StateDirectory=glivi-relay/%i\n", unit)


if __name__ == "__main__":
    unittest.main()
