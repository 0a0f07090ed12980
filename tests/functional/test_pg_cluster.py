"""scripts/pg-cluster and its Python wrapper: a cluster starts on a port
of its own, takes the glivi role's password from pgpass only, gives fresh
databases, restarts (or halts and resumes) on the same port, and leaves no
process or file."""
import os
import stat
import subprocess
import unittest

import pgcluster
import relay as R


def postmaster_pid(d):
    with open(os.path.join(d, "data", "postmaster.pid")) as f:
        return int(f.readline())


def alive(pid):
    """True while pid runs; an exited process its parent has not reaped
    yet (a zombie: pg_ctl leaves the server to init) has stopped."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@unittest.skipUnless(pgcluster.available(), pgcluster.WHY_NOT)
class PgClusterTest(unittest.TestCase):
    def test_start_fresh_database_restart_stop(self):
        with pgcluster.Cluster() as pg:
            d = pg.dir
            self.assertRegex(pg.url,
                             r"^postgres://glivi@127\.0\.0\.1:\d+/glivi$")
            with open(os.path.join(d, "url")) as f:
                self.assertEqual(f.read().strip(), pg.url)
            st = os.stat(pg.passfile)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
            self.assertEqual(st.st_uid, os.getuid())
            self.assertEqual(pg.psql("SELECT current_user").strip(), "glivi")
            self.assertEqual(pg.psql("SHOW max_connections").strip(), "200")
            self.assertEqual(pg.psql("SHOW fsync").strip(), "on")

            url = pg.fresh_database()
            self.assertNotEqual(url, pg.url)
            self.assertEqual(pg.psql("SELECT count(*) FROM pg_tables WHERE "
                                     "schemaname = 'public'", url).strip(),
                             "0")
            pg.psql("CREATE TABLE t(x int); INSERT INTO t VALUES (7)", url)

            # Without the password file, the password is asked for.
            r = subprocess.run(["psql", "-X", "-w", "-d", pg.url, "-c",
                                "SELECT 1"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env={k: v for k, v in os.environ.items()
                                    if k != "PGPASSFILE"} |
                               {"PGPASSFILE": "/nonexistent"})
            self.assertNotEqual(r.returncode, 0)

            port, pid = pg.port, postmaster_pid(d)
            pg.restart()
            self.assertEqual(pg.port, port)
            self.assertNotEqual(postmaster_pid(d), pid)
            self.assertEqual(pg.psql("SELECT x FROM t", url).strip(), "7")
            pid = postmaster_pid(d)
        self.assertFalse(os.path.exists(d))
        R.wait_for(lambda: not alive(pid), what="the server to exit")

    def test_halt_keeps_the_data_and_resume_the_port(self):
        with pgcluster.Cluster() as pg:
            url = pg.fresh_database()
            pg.psql("CREATE TABLE t(x int); INSERT INTO t VALUES (3)", url)
            port, pid = pg.port, postmaster_pid(pg.dir)
            pg.halt()
            R.wait_for(lambda: not alive(pid), what="the server to exit")
            with self.assertRaises(RuntimeError):
                pg.psql("SELECT 1")
            pg.resume()
            self.assertEqual(pg.port, port)
            self.assertEqual(pg.psql("SELECT x FROM t", url).strip(), "3")

    def test_two_clusters_get_their_own_ports(self):
        with pgcluster.Cluster() as a, pgcluster.Cluster() as b:
            self.assertNotEqual(a.port, b.port)
            self.assertEqual(a.psql("SELECT 1").strip(), "1")
            self.assertEqual(b.psql("SELECT 1").strip(), "1")

    def test_stop_happens_when_the_test_fails(self):
        pg = pgcluster.Cluster()
        with self.assertRaises(ZeroDivisionError):
            with pg:
                d, pid = pg.dir, postmaster_pid(pg.dir)
                1 / 0
        self.assertFalse(os.path.exists(d))
        R.wait_for(lambda: not alive(pid), what="the server to exit")


if __name__ == "__main__":
    unittest.main()
