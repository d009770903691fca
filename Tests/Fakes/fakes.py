#!/usr/bin/env python3
"""Local fake servers for Google (OAuth, Ads, Data Manager), Meta (Login,
Graph, Insights, CAPI), TikTok (Marketing API, Events API) and GA4
(Measurement Protocol), for Waymark's integration tests.

    python3 Tests/Fakes/fakes.py --google 19101 --meta 19102 --tiktok 19103 --ga4 19104 [--token-lifetime 3600]

Prints `ready` on stdout once every requested server listens; runs until
SIGTERM/SIGINT. Standard library only. See Tests/Fakes/README.md.
"""
import argparse
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakebase import serve  # noqa: E402
from ga4 import GA4Fake  # noqa: E402
from google import GoogleFake  # noqa: E402
from meta import MetaFake  # noqa: E402
from tiktok import TikTokFake  # noqa: E402

PROVIDERS = {"google": GoogleFake, "meta": MetaFake, "tiktok": TikTokFake, "ga4": GA4Fake}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in PROVIDERS:
        ap.add_argument("--" + name, type=int, metavar="PORT", help="serve the %s fake on this port" % name)
    ap.add_argument("--token-lifetime", type=int, default=3600, metavar="SECONDS",
                    help="access-token lifetime (default 3600)")
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args(argv)
    chosen = [(n, getattr(args, n)) for n in PROVIDERS if getattr(args, n) is not None]
    if not chosen:
        ap.error("give at least one of --google/--meta/--tiktok/--ga4")

    servers = []
    try:
        for name, port in chosen:
            servers.append(serve(PROVIDERS[name](token_lifetime=args.token_lifetime), port, args.host))
            sys.stderr.write("[fakes] %s listening on http://%s:%d\n" % (name, args.host, servers[-1].server_port))
    except OSError as e:
        sys.stderr.write("[fakes] cannot listen: %s\n" % e)
        for s in servers:
            s.shutdown()
            s.server_close()
        return 1

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("ready", flush=True)
    while not stop.wait(0.5):
        pass
    for s in servers:
        s.shutdown()
        s.server_close()
    sys.stderr.write("[fakes] stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
