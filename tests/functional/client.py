"""Run the real glivi-tui for functional tests.

A Client has its own config, token file and cache directory in a temp dir
(XDG_CONFIG_HOME, XDG_DATA_HOME and HOME point there, so nothing of the
user's is read or written) and runs glivi-tui's headless subcommands as
separate processes, the way a script would.
"""
import json
import os
import shutil
import subprocess
import tempfile

import relay as R

TUI = os.path.join(R.BUILD, "glivi-tui")


class Client:
    def __init__(self, url, token, ca_file=None, extra=""):
        self.dir = tempfile.mkdtemp(prefix="glivi-tui-test-")
        self.token_file = os.path.join(self.dir, "token")
        R.write_secret(self.token_file, token.encode())
        self.cache_dir = os.path.join(self.dir, "data", "glivi-tui")
        self.config = os.path.join(self.dir, "glivi-tui.conf")
        self.url = url
        self.ca_file = ca_file
        self.extra = extra
        self.write_config()

    def write_config(self, **relay):
        keys = {"url": self.url, "token_file": self.token_file}
        if self.ca_file:
            keys["ca_file"] = self.ca_file
        keys.update(relay)
        with open(self.config, "w") as f:
            f.write("[relay]\n")
            for k, v in keys.items():
                if v is not None:
                    f.write("%s = %s\n" % (k, v))
            f.write("connect_timeout = 2s\nrequest_timeout = 10s\n\n")
            f.write("[cache]\ndir = %s\n\n%s" % (self.cache_dir, self.extra))

    def env(self):
        e = dict(os.environ)
        e.update(HOME=self.dir, XDG_CONFIG_HOME=os.path.join(self.dir, "cfg"),
                 XDG_DATA_HOME=os.path.join(self.dir, "data"), LC_ALL="C.UTF-8")
        return e

    def run(self, *args, stdin=None, timeout=120, config=True):
        argv = [TUI] + (["-c", self.config] if config else []) + list(args)
        return subprocess.run(argv, capture_output=True, timeout=timeout,
                              input=stdin, env=self.env())

    def popen(self, *args):
        return subprocess.Popen([TUI, "-c", self.config] + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.env())

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        if r.returncode != 0:
            raise AssertionError("glivi-tui %s exited %d:\n%s" % (
                " ".join(args), r.returncode, r.stderr.decode()))
        return r

    def sync(self):
        return self.ok("sync")

    def status(self):
        return json.loads(self.ok("status", "--json").stdout)

    def export(self, conv):
        r = self.run("export", str(conv))
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def search(self, *words):
        return json.loads(self.ok("search", "--json", *words).stdout)

    def cache_files(self):
        if not os.path.isdir(self.cache_dir):
            return []
        return sorted(os.listdir(self.cache_dir))

    def cache_path(self):
        return [os.path.join(self.cache_dir, f) for f in self.cache_files()
                if f.endswith(".db") and not f.endswith(".work.db")][0]

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)
