"""A throwaway PostgreSQL cluster for functional tests.

Wraps scripts/pg-cluster: the cluster lives in a private temp dir, listens
on 127.0.0.1 on a port it found free (and on a socket in that dir), and
the role glivi logs in with a password that is only in the dir's pgpass
file. Stopping removes the dir. Use it as a context manager so it stops
however the test ends:

    @unittest.skipUnless(pgcluster.available(), pgcluster.WHY_NOT)
    class T(unittest.TestCase):
        def test_x(self):
            with pgcluster.Cluster() as pg:
                url = pg.fresh_database()
                run(..., env={**os.environ, **pg.env()})
"""
import itertools
import os
import shutil
import subprocess
import tempfile

SOURCE = os.environ.get("GLIVI_SOURCE") or os.path.join(
    os.path.dirname(__file__), "..", "..")
SCRIPT = os.path.join(SOURCE, "scripts", "pg-cluster")
WHY_NOT = ("PostgreSQL is not installed (scripts/install-deps installs "
           "postgresql)")


def bindir():
    """The server binaries' folder, or None when there is no server."""
    r = subprocess.run([SCRIPT, "bindir"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def available():
    """True when the PostgreSQL server and psql can be run here."""
    return bindir() is not None


class Cluster:
    """One cluster: started by start() (or entering), stopped by stop()."""

    _names = itertools.count()

    def __init__(self):
        self.dir = None
        self.url = None
        self._bin = None

    def start(self):
        self._bin = bindir()
        if self._bin is None:
            raise RuntimeError(WHY_NOT)
        self.dir = tempfile.mkdtemp(prefix="glivi-pg-")
        try:
            r = subprocess.run([SCRIPT, "start", self.dir],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               timeout=120)
            if r.returncode != 0:
                raise RuntimeError("pg-cluster start: " + r.stderr.strip()
                                   + self._log_tail())
            self.url = r.stdout.strip().splitlines()[-1]
        except BaseException:
            self.stop()
            raise
        return self

    def _log_tail(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return "\n" + "".join(f.readlines()[-20:])
        except OSError:
            return ""

    @property
    def port(self):
        with open(os.path.join(self.dir, "port")) as f:
            return int(f.read())

    @property
    def passfile(self):
        return os.path.join(self.dir, "pgpass")

    def env(self):
        """What a process needs besides the URL to log in."""
        return {"PGPASSFILE": self.passfile}

    def psql(self, sql, url=None):
        """Runs sql as glivi (on the base database unless url); returns
        its output, unaligned and without headers."""
        psql = os.path.join(self._bin, "psql")
        if not os.path.exists(psql):
            psql = shutil.which("psql") or "psql"
        r = subprocess.run([psql, "-X", "-q", "-A", "-t", "-v",
                            "ON_ERROR_STOP=1", "-d", url or self.url,
                            "-c", sql],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60,
                           env={**os.environ, **self.env()})
        if r.returncode != 0:
            raise RuntimeError("psql: " + r.stderr.strip())
        return r.stdout

    def fresh_database(self):
        """The URL of a new, empty database owned by glivi."""
        name = "glivi_f_%d_%d" % (os.getpid(), next(self._names))
        self.psql("CREATE DATABASE " + name)
        return self.url.rsplit("/", 1)[0] + "/" + name

    def restart(self):
        """Restarts the server on the same port (connections drop)."""
        r = subprocess.run([SCRIPT, "restart", self.dir],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("pg-cluster restart: " + r.stderr.strip()
                               + self._log_tail())

    def _script(self, what):
        r = subprocess.run([SCRIPT, what, self.dir],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("pg-cluster %s: %s%s" % (
                what, r.stderr.strip(), self._log_tail()))

    def halt(self):
        """Stops the server, keeping its data (connections drop)."""
        self._script("halt")

    def resume(self):
        """Starts a halted server again on its port."""
        self._script("resume")

    def stop(self):
        """Stops the server and removes its dir; safe to call twice."""
        if self.dir is None:
            return
        subprocess.run([SCRIPT, "stop", self.dir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        self.url = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
