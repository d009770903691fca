"""What the HA tests (responders.py, failover.py) share: check lines, the database through
libpq's environment (no password on a command line), the CLI and the JSON API of the instance.
`configure` first, with the instance's paths and URLs."""
import http.client
import json
import os
import re
import ssl
import subprocess
import urllib.parse

ROOT = VAR = HTTPS = None
PG_ENV = {}
failures = 0


def configure(root, var, https, database_url):
    global ROOT, VAR, HTTPS, PG_ENV
    ROOT, VAR, HTTPS = root, var, https
    PG_ENV = libpq_env(database_url)


def check(label, ok, detail=""):
    global failures
    print("%s %s%s" % ("ok  " if ok else "FAIL", label, (": " + detail) if detail and not ok else ""), flush=True)
    if not ok:
        failures += 1


def libpq_env(url):
    """The URL as libpq environment variables, so that no password is on a command line."""
    m = re.match(r"^postgres(?:ql)?://([^@/]*)@([^/?]*)/([^?]*)(?:\?(.*))?$", url)
    if not m:
        raise RuntimeError("the database URL is not a postgresql:// URL with a user")
    userinfo, hosts, database, query = m.groups()
    user, _, password = userinfo.partition(":")
    pairs = [h.rpartition(":") if re.search(r":\d+$", h) else (h, "", "5432") for h in hosts.split(",")]
    env = {"PGHOST": ",".join(p[0] for p in pairs), "PGPORT": ",".join(p[2] for p in pairs),
           "PGUSER": urllib.parse.unquote(user), "PGPASSWORD": urllib.parse.unquote(password),
           "PGDATABASE": urllib.parse.unquote(database)}
    # A query's host and port (the embedded cluster's Unix socket) win over the authority's, as in libpq.
    names = {"host": "PGHOST", "port": "PGPORT", "target_session_attrs": "PGTARGETSESSIONATTRS",
             "connect_timeout": "PGCONNECT_TIMEOUT", "sslmode": "PGSSLMODE",
             "application_name": "PGAPPNAME", "sslrootcert": "PGSSLROOTCERT"}
    for key, value in urllib.parse.parse_qsl(query or ""):
        if key not in names:
            raise RuntimeError("the database URL: parameter %s is not handled by this test" % key)
        env[names[key]] = value
    return env


def psql(sql, timeout=60):
    env = dict(os.environ)
    env.update(PG_ENV)
    out = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True, timeout=timeout, env=env)
    if out.returncode != 0:
        raise RuntimeError("psql: " + out.stderr.strip())
    return out.stdout.strip()


def cli(*argv):
    out = subprocess.run([os.path.join(ROOT, ".build", "release", "waymark")] + list(argv), cwd=ROOT,
                         capture_output=True, text=True, timeout=120, env=dict(os.environ))
    if out.returncode != 0:
        raise RuntimeError("waymark %s: %s" % (argv[0], out.stderr.strip()))
    return out.stdout.strip().splitlines()[-1].strip()


def tls_context():
    return ssl.create_default_context(cafile=os.path.join(VAR, "tls", "cert.pem"))


def api(method, path, token, body=None):
    u = urllib.parse.urlsplit(HTTPS)
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=tls_context(), timeout=30)
    conn.request(method, path, body=None if body is None else json.dumps(body),
                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    if r.status not in (200, 201):
        raise RuntimeError("%s %s answered %d: %s" % (method, path, r.status, data[:300]))
    return json.loads(data)
