"""A throwaway PostgreSQL server for tests and benchmarks, started from the binaries on this machine.

initdb and pg_ctl in a fresh directory under /tmp, listening on a Unix socket in that directory and on a
free loopback port. PostgreSQL refuses to run as root, so under root (CI here) the server runs as the
`postgres` system user that Debian's package creates. The superuser `admin` connects over the socket without
a password; other roles connect over TCP with a password (scram-sha-256), as a BI server would.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "admin"
SERVER_USER = "postgres"  # the system account the server runs as when we are root


def find_bindir() -> Path | None:
    if os.environ.get("STYRINGSDATA_TEST_PG_BIN"):
        return Path(os.environ["STYRINGSDATA_TEST_PG_BIN"])
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing() -> str | None:
    """Why a server cannot be started here, or None."""
    bindir = find_bindir()
    if bindir is None or not (bindir / "pg_ctl").exists():
        return ("PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or on PATH; "
                "install Debian's postgresql package or set STYRINGSDATA_TEST_PG_BIN")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no '{SERVER_USER}' system user to run PostgreSQL as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    bindir: Path
    root: Path
    port: int
    run_as: str | None
    options: str = ""

    @property
    def socket_dir(self) -> str:
        return str(self.root)

    def admin_url(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={dbname}"

    def tcp_url(self, user: str, dbname: str) -> str:
        """A URL without the password: it goes in PGPASSWORD, as the README tells users to do."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def admin(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.admin_url(dbname), autocommit=True)

    def create_database(self, name: str, owner: str | None = None) -> None:
        with self.admin() as con:
            con.execute(f'create database "{name}"' + (f' owner "{owner}"' if owner else ""))

    def create_login(self, name: str, password: str, *options: str) -> None:
        """A login role; `options` are role attributes such as CREATEROLE."""
        with self.admin() as con:
            con.execute(sql.SQL("create role {} login password {} " + " ".join(options)).format(
                sql.Identifier(name), sql.Literal(password)))

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), *args],
                              user=self.run_as, cwd=self.root, capture_output=True, text=True, check=check, timeout=120)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def pause(self) -> None:
        """Stop the server, keeping its data: PostgreSQL down for a while (`resume` starts it again)."""
        self._pg_ctl("stop", "-m", "fast", "-w")

    def resume(self) -> None:
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.root / "server.log"), "-o", self.options)

    def stop(self) -> None:
        result = self._pg_ctl("stop", "-m", "fast", "-w", check=False)
        if result.returncode != 0:
            pid_file = self.root / "data" / "postmaster.pid"
            if pid_file.exists():
                try:
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> PgServer:
    problem = missing()
    if problem:
        raise RuntimeError(problem)
    bindir = find_bindir()
    run_as = SERVER_USER if os.geteuid() == 0 else None
    # Under /tmp, not pytest's tmp_path: the socket path must stay short and the server user must reach it.
    root = Path(tempfile.mkdtemp(prefix="styringsdata-pg-", dir="/tmp"))
    if run_as:
        account = pwd.getpwnam(run_as)
        os.chown(root, account.pw_uid, account.pw_gid)
    server = PgServer(bindir, root, _free_port(), run_as)
    try:
        subprocess.run([str(bindir / "initdb"), "-D", str(root / "data"), "-U", SUPERUSER, "--auth-local=trust",
                        "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                       user=run_as, cwd=root, capture_output=True, text=True, check=True, timeout=120)
        options = (f"-k {root} -p {server.port} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        server.options = options
        server._pg_ctl("start", "-w", "-t", "60", "-l", str(root / "server.log"), "-o", options)
    except subprocess.CalledProcessError as exc:
        log = server.log()
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.cmd[0]}: {exc.stderr}\n{log}") from None
    return server


# The roles and databases of deploy/postgres/setup.sql, with throwaway passwords (a quote and a non-ASCII
# letter in each, so quoting mistakes show).
PUBLISHER = "styringsdata_publisher"
PUBLISHER_PASSWORD = "pub'Læs-9f3k2"
DAGSTER_USER = "dagster"
DAGSTER_PASSWORD = "dag'Søk-4k1m7"
BI_LOGIN = "bi_reader"
BI_PASSWORD = "bi'Kø-2m8x1"
SETUP_SQL = Path(__file__).resolve().parents[1] / "deploy" / "postgres" / "setup.sql"


@dataclass
class Warehouse:
    server: PgServer
    database: str = "styringsdata"

    @property
    def publisher_url(self) -> str:
        return self.server.tcp_url(PUBLISHER, self.database)

    def publisher_url_with_password(self) -> str:
        from urllib.parse import quote

        return f"postgresql://{PUBLISHER}:{quote(PUBLISHER_PASSWORD, safe='')}@127.0.0.1:{self.server.port}/{self.database}"

    def bi(self) -> psycopg.Connection:
        return psycopg.connect(self.server.tcp_url(BI_LOGIN, self.database), password=BI_PASSWORD, autocommit=True,
                               application_name="bi-reader-test")

    def admin(self) -> psycopg.Connection:
        return self.server.admin(self.database)


def setup_warehouse(server: PgServer) -> Warehouse:
    """Run deploy/postgres/setup.sql as the documentation says, then add one BI login as its comments say."""
    subprocess.run([str(server.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                    "-v", f"publisher_password={PUBLISHER_PASSWORD}", "-v", f"dagster_password={DAGSTER_PASSWORD}",
                    "-h", server.socket_dir, "-p", str(server.port), "-U", SUPERUSER, "-d", "postgres",
                    "-f", str(SETUP_SQL)], check=True, capture_output=True, text=True, timeout=60)
    with server.admin() as con:
        con.execute(sql.SQL("create role {} login password {} in role styringsdata_reader").format(
            sql.Identifier(BI_LOGIN), sql.Literal(BI_PASSWORD)))
        con.execute(sql.SQL("alter role {} set search_path = styringsdata").format(sql.Identifier(BI_LOGIN)))
    return Warehouse(server)
