"""Nothing acknowledged is lost when the relay is killed mid-load.

A load generator posts signed webhooks over keep-alive HTTPS and records
every wamid that got 200. The relay is SIGKILLed in the middle of the load
and started again on the same store: every acknowledged webhook must be
there, each once.
"""
import os
import sqlite3
import subprocess
import unittest

import relay
from relay import Relay, wait_for

LOAD = os.path.join(relay.BUILD, "ingest-load")


def lines(path):
    try:
        with open(path) as f:
            return [l.strip() for l in f if l.endswith("\n")]
    except FileNotFoundError:
        return []


class CrashRecovery(unittest.TestCase):

    def test_sigkill_under_load_loses_no_acknowledged_webhook(self):
        with Relay() as r:
            acked = os.path.join(r.dir, "acked")
            load = subprocess.Popen(
                [LOAD, "--url", "https://localhost:%d/webhook" % r.port,
                 "--secret-file", r.app_secret_file, "--cacert", r.ca,
                 "--connections", "16", "--requests", "200000",
                 "--prefix", "wamid.CRASH-", "--customers", "50",
                 "--acked-file", acked, "--stop-on-error"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                wait_for(lambda: len(lines(acked)) >= 1500, timeout=120,
                         what="1500 acknowledged webhooks")
                r.kill()
                out, err = load.communicate(timeout=60)
            finally:
                if load.poll() is None:
                    load.kill()
                    load.wait()
            self.assertNotEqual(load.returncode, 0,
                                "the load should have seen the relay die")
            got = lines(acked)
            self.assertGreaterEqual(len(got), 1500)
            self.assertEqual(len(got), len(set(got)))

            r.start()
            stored = [c["data"]["wamid"] for c in r.changes()
                      if c["kind"] == "message"]
            self.assertEqual(len(stored), len(set(stored)),
                             "a message was stored twice")
            missing = set(got) - set(stored)
            self.assertEqual(missing, set(),
                             "%d acknowledged webhooks lost" % len(missing))
            # Some webhooks were stored but their 200 never arrived: Meta
            # retries those, and the retry must be a no-op.
            self.assertLessEqual(len(stored) - len(got), 16 * 256)
            r.stop()
            db = sqlite3.connect(r.db)
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone(),
                             ("ok",))
            n = db.execute("SELECT count(*) FROM messages").fetchone()[0]
            db.close()
            self.assertEqual(n, len(stored))


if __name__ == "__main__":
    unittest.main()
