#!/usr/bin/env python3
"""Failover outage benchmark: kill -9 the leader of a partition N times under steady writes.

Starts ZooKeeper + 3 brokers with scripts/cluster.sh in a temp dir (loopback only), creates a
topic (replication_factor 3, min_insync_replicas 2), and runs a producer that writes one
message at a time (with ids, retried on failure) to partition 0 through a broker that is not
being killed. Each round kills the partition's leader with SIGKILL and measures the write
outage: from the kill to the first write sent after it that is answered 200. The
killed broker is restarted and the round waits until it is back in the ISR. Prints each
outage and the median and maximum. Every round is bounded in time; the cluster is stopped at
the end.

  bench/failover.py [--rounds 20] [--session-ms 3000] [--base-port 19800]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, threading, time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def http(method, url, body=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None
    except Exception:
        return 0, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--session-ms", type=int, default=3000)
    ap.add_argument("--base-port", type=int, default=19800)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="zoomq-failover-")
    base = args.base_port
    urls = {i: "http://127.0.0.1:%d" % (base + i) for i in (1, 2, 3)}
    env = dict(os.environ, ZOOMQ_BROKER_ARGS="--zk-session-ms %d" % args.session_ms)
    cluster = [os.path.join(ROOT, "scripts/cluster.sh")]
    subprocess.run(cluster + ["start", "--dir", d, "--base-port", str(base)], check=True,
                   env=env, stdout=subprocess.DEVNULL)
    try:
        st, _ = http("POST", urls[1] + "/v1/topics",
                     {"name": "failover", "partitions": 1, "replication_factor": 3,
                      "min_insync_replicas": 2})
        assert st in (200, 201), st

        def state():
            st, c = http("GET", urls[via[0]] + "/v1/cluster", timeout=2)
            if st != 200:
                return None
            for t in c["topics"]:
                if t["name"] == "failover":
                    return t["partitions"][0]
            return None

        via = [1]
        oks = []  # (sent, answered) monotonic times of requests answered 200
        stop = threading.Event()

        def produce():
            n = 0
            while not stop.is_set():
                n += 1
                body = {"messages": [{"value": n, "partition": 0, "id": "f-%d" % n}]}
                while not stop.is_set():
                    sent = time.monotonic()
                    st, _ = http("POST", urls[via[0]] + "/v1/topics/failover/messages", body)
                    if st == 200:
                        oks.append((sent, time.monotonic()))
                        break
                    time.sleep(0.005)

        th = threading.Thread(target=produce, daemon=True)
        th.start()
        outages = []
        for r in range(args.rounds):
            deadline = time.monotonic() + 30
            s = state()
            while (s is None or len(s["isr"]) < 3) and time.monotonic() < deadline:
                time.sleep(0.1)
                s = state()
            leader = s["leader"]
            via[0] = next(i for i in (1, 2, 3) if i != leader)
            time.sleep(0.5)  # steady writes before the kill
            subprocess.run(cluster + ["kill", str(leader), "--dir", d], check=True,
                           stdout=subprocess.DEVNULL)
            kill_at = time.monotonic()  # the process is gone by now
            # The outage: from the kill to the first 200 for a write sent after it (a write
            # sent during the failover waits inside the broker's forwarding and retries).
            while time.monotonic() < kill_at + 20 and not any(s > kill_at for s, _ in oks[-50:]):
                time.sleep(0.01)
            after = min([a for s, a in oks if s > kill_at], default=None)
            outage = (after - kill_at) * 1000 if after else float("inf")
            outages.append(outage)
            print("round %2d: killed leader %d, writes resumed after %.0f ms" %
                  (r + 1, leader, outage), flush=True)
            subprocess.run(cluster + ["restart", str(leader), "--dir", d], check=True, env=env,
                           stdout=subprocess.DEVNULL)
        stop.set()
        th.join(timeout=10)
        print("outage over %d leader kills (session %d ms): median %.0f ms, max %.0f ms, "
              "%d writes acknowledged" % (len(outages), args.session_ms,
                                          statistics.median(outages), max(outages), len(oks)))
    finally:
        subprocess.run(cluster + ["stop", "--dir", d], stdout=subprocess.DEVNULL)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
