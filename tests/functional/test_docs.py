"""The docs an operator reads stay true to the programs.

The configuration reference (docs/configuration.md and the two section 5
man pages) is generated from the options tables by scripts/config-doc; it
must be in step with the built programs. The man pages render without a
warning, and name every command the programs' --help lists. Every
relative link of README.md and docs/ leads to a file.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402

MAN = os.path.join(R.SOURCE, "man")
PAGES = ["glivi-tui.1", "glivi-tui.conf.5", "glivi-relay.8",
         "glivi-relay.conf.5"]


def help_text(prog):
    r = subprocess.run([os.path.join(R.BUILD, prog), "--help"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout


def rendered(page):
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    r = subprocess.run(["man", "--warnings", "-l", os.path.join(MAN, page)],
                       capture_output=True, text=True, env=env, timeout=30)
    return r


class ConfigReference(unittest.TestCase):

    def test_generated_pages_match_the_options_tables(self):
        r = subprocess.run([os.path.join(R.SOURCE, "scripts", "config-doc"),
                            "--check", R.BUILD], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_every_key_of_both_samples_is_in_the_reference(self):
        with open(os.path.join(R.SOURCE, "docs", "configuration.md")) as f:
            doc = f.read()
        for prog in ("glivi-relay", "glivi-tui"):
            out = subprocess.run([os.path.join(R.BUILD, prog),
                                  "sample-config"], capture_output=True,
                                 text=True, check=True).stdout
            for key in re.findall(r"^;?([a-z_]+) =", out, re.M):
                self.assertIn("| `%s` |" % key, doc, "%s: %s" % (prog, key))

    def test_every_key_of_the_clients_help_is_in_its_man_page(self):
        with open(os.path.join(MAN, "glivi-tui.conf.5")) as f:
            page = f.read().replace("\\-", "-")
        keys = re.findall(r"^  ([a-z]+)\.([a-z_]+) ", help_text("glivi-tui"),
                          re.M)
        self.assertGreater(len(keys), 10)
        for sec, key in keys:
            self.assertIn(".SS [%s]" % sec, page)
            self.assertRegex(page, r"\n\.B[R]? %s\b" % re.escape(key))


@unittest.skipUnless(shutil.which("man"), "man is not installed")
class ManPages(unittest.TestCase):

    def test_pages_render_without_warnings(self):
        for page in PAGES:
            with self.subTest(page=page):
                r = rendered(page)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr, "")
                self.assertIn("NAME", r.stdout)
                self.assertIn("SEE ALSO", r.stdout)

    def test_pages_name_every_command_of_help(self):
        for prog, page, pat in (
                ("glivi-tui", "glivi-tui.1", r"^  ([a-z][a-z-]+) "),
                ("glivi-relay", "glivi-relay.8", r"^  ([a-z][a-z-]+)")):
            text = rendered(page).stdout
            cmds = re.findall(pat, help_text(prog), re.M)
            self.assertGreater(len(cmds), 3, prog)
            for c in cmds:
                if c in ("help", "version"):
                    c = "--" + c
                self.assertIn(c, text, "%s(%s) misses %s" % (prog, page, c))

    def test_help_and_version_on_both_programs(self):
        for prog in ("glivi-tui", "glivi-relay", "glivi-sim"):
            for flag in ("--help", "--version"):
                r = subprocess.run([os.path.join(R.BUILD, prog), flag],
                                   capture_output=True, text=True, timeout=10)
                self.assertEqual(r.returncode, 0, (prog, flag, r.stderr))
                self.assertTrue(r.stdout.strip(), (prog, flag))


class Links(unittest.TestCase):

    def test_relative_links_in_readme_and_docs_lead_to_files(self):
        files = [os.path.join(R.SOURCE, "README.md")] + sorted(
            glob.glob(os.path.join(R.SOURCE, "docs", "*.md")))
        for path in files:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for target in re.findall(r"\]\(([^)\s]+)\)", text):
                if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                    continue
                target = target.split("#")[0]
                full = os.path.normpath(os.path.join(os.path.dirname(path),
                                                     target))
                self.assertTrue(os.path.exists(full), "%s: %s" % (
                    os.path.relpath(path, R.SOURCE), target))


if __name__ == "__main__":
    unittest.main()
