"""Scale benchmark: a realistic district on PostgreSQL, measured as a street supervisor and as the
district admin: the dashboard for a month and a year, case list pages with filters, free-text
search, and a 100,000-row Excel export (time and peak memory).

    .venv/bin/python bench/scale.py [--cases 200000] [--keep]

Creates its own database (GRIDLINE_SCALE_DATABASE_URL, default gl_scale on 127.0.0.1), loads
10 streets, 120 communities, 1,000 grids, 8,000 members and N cases over three years with COPY,
times each page through the Flask app in-process (no network), prints a table and drops the
database unless --keep.
"""
from __future__ import annotations

import argparse
import io
import os
import random
import resource
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("GRIDLINE_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE_URL = os.environ.get("GRIDLINE_SCALE_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/gl_scale")
REDIS_URL = os.environ.get("GRIDLINE_SCALE_REDIS_URL", "redis://127.0.0.1:6379/13")
STREETS, COMMUNITIES, GRIDS, MEMBERS = 10, 120, 1000, 8000
DEPARTMENTS = {"urban_construction": "housing_bureau", "environment": "environment_bureau",
               "transport": "transport_bureau", "education_culture": "education_bureau",
               "labor_social_security": "hrss_bureau", "commerce_tourism": "commerce_bureau",
               "health": "health_commission", "civil_affairs": "civil_affairs_bureau"}
TEXTS = [
    ("livelihood", "urban_construction", "小区门口路灯坏了一个星期，晚上很黑"), ("livelihood", "urban_construction", "楼上卫生间漏水，天花板一直滴水"),
    ("livelihood", "environment", "河道里有死鱼，水发黑发臭"), ("livelihood", "environment", "晚上广场舞噪音太大影响休息"),
    ("livelihood", "transport", "公交站台的顶棚塌了"), ("livelihood", "commerce_tourism", "菜市场有人缺斤短两"),
    ("livelihood", "education_culture", "孩子入学的事情想咨询一下学区"), ("livelihood", "civil_affairs", "家里老人想申请低保"),
    ("livelihood", "health", "卫生院看病排队太久"), ("livelihood", "labor_social_security", "公司拖欠工资三个月了，老板不见人"),
    ("stability", None, "村东头两伙人打起来了，快来人"), ("legal_aid", None, "想申请法律援助，借钱不还要打官司"),
    ("petition", None, "拆迁补偿款一直不到位，准备去上访"), ("livelihood", "environment", "有人在路边焚烧垃圾"),
]
PLACES = ["东区", "西门", "南苑", "北街", "幸福路", "和平里", "新村", "老街", "花园", "工业园"]


def rng_dates(rng: random.Random, start: datetime, days: int) -> datetime:
    return start + timedelta(seconds=rng.randrange(days * 86400))


def create_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_rows(conn, table: str, columns: list[str], rows) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(url: str, n_cases: int, seed: int = 13) -> dict:
    """Base data and cases; returns ids the measurements need."""
    from models.db import Database
    from models.search import index_text

    rng = random.Random(seed)
    db = Database(url)
    db.upgrade()
    raw = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
    now = datetime(2026, 11, 30, 2, 0)
    t0 = time.perf_counter()
    areas = [(1, "D", "东湖区", "district", None)]
    streets, communities, grids = [], [], []
    for s in range(STREETS):
        sid = len(areas) + 1
        areas.append((sid, f"D-S{s + 1}", f"第{s + 1}街道", "street", 1))
        streets.append(sid)
    for c in range(COMMUNITIES):
        cid = len(areas) + 1
        areas.append((cid, f"D-C{c + 1}", f"第{c + 1}社区", "community", streets[c % STREETS]))
        communities.append(cid)
    for g in range(GRIDS):
        gid = len(areas) + 1
        areas.append((gid, f"D-G{g + 1}", f"第{g + 1}网格", "grid", communities[g % COMMUNITIES]))
        grids.append(gid)
    parent = {a[0]: a[4] for a in areas}
    copy_rows(raw, "areas", ["id", "code", "name", "level", "parent_id", "aliases", "created_at"],
              ((a[0], a[1], a[2], a[3], a[4], "", now) for a in areas))
    teams, team_of = [], {}
    def team(kind, area_id, name):
        tid = len(teams) + 1
        teams.append((tid, f"T{tid}", name, kind, area_id, now))
        team_of[(kind, area_id)] = tid
        return tid
    team("district_center", 1, "区指挥中心")
    for dept in DEPARTMENTS.values():
        team(dept, 1, dept)
    team("petition_office", 1, "区信访局")
    for sid in streets:
        team("street_center", sid, f"街道{sid}综治中心")
        team("justice_office", sid, f"街道{sid}司法所")
        team("police_station", sid, f"街道{sid}派出所")
    for cid in communities:
        team("community_station", cid, f"社区{cid}工作站")
    for gid in grids:
        team("grid_team", gid, f"网格{gid}服务团队")
    copy_rows(raw, "teams", ["id", "code", "name", "kind", "area_id", "created_at"], teams)
    grid_team_ids = [team_of[("grid_team", g)] for g in grids]
    members = [(i + 1, f"+86139{i:08d}", f"网格员{i + 1}", grid_team_ids[i % GRIDS], "member" if i % 8 else "leader", True, now)
               for i in range(MEMBERS)]
    copy_rows(raw, "members", ["id", "phone", "name", "team_id", "role", "active", "created_at"], members)
    raw.execute("SELECT setval('areas_id_seq', (SELECT max(id) FROM areas)); SELECT setval('teams_id_seq', (SELECT max(id) FROM teams));"
                "SELECT setval('members_id_seq', (SELECT max(id) FROM members))")
    raw.commit()

    start, days = now - timedelta(days=3 * 365), 3 * 365
    columns = ["id", "status", "category", "subcategory", "department", "urgency", "confidence", "channel", "reporter_phone",
               "reporter_name", "area_id", "team_id", "text", "classification", "created_at", "updated_at",
               "last_message_at", "ack_due_at", "due_at", "acknowledged_at", "resolved_at", "closed_at", "overdue",
               "rating", "reopen_count", "repeat_count", "escalation_level", "source", "reporter_member_id",
               "acknowledged_by_id", "resolved_by_id", "contact", "search_tokens"]
    events = []
    def cases():
        for i in range(1, n_cases + 1):
            category, sub, text = TEXTS[rng.randrange(len(TEXTS))]
            text = f"{PLACES[rng.randrange(len(PLACES))]}{rng.randrange(1, 99)}号{text}"
            gi = rng.randrange(GRIDS)
            grid = grids[gi]
            created = rng_dates(rng, start, days)
            source = rng.choices(("resident", "patrol", "on_the_spot"), (55, 35, 10))[0]
            member_id = gi + 1 + GRIDS * rng.randrange(MEMBERS // GRIDS)
            handler = {"legal_aid": team_of[("justice_office", parent[parent[grid]])],
                       "petition": team_of[("petition_office", 1)]}.get(category, grid_team_ids[gi])
            age = (now - created).days
            done = source == "on_the_spot" or rng.random() < (0.97 if age > 30 else 0.6)
            status = "closed" if done and (age > 7 or source != "resident") else ("resolved" if done else
                                                                                      rng.choice(("assigned", "acknowledged", "in_progress")))
            due = created + timedelta(days=5)
            acked = created + timedelta(minutes=rng.randrange(5, 600)) if status != "assigned" else None
            resolved = created + timedelta(hours=rng.randrange(1, 160)) if done else None
            rating = (rng.choices(("satisfied", "basically_satisfied", "dissatisfied", "no_response"), (70, 15, 3, 12))[0]
                      if status == "closed" and source == "resident" else None)
            if done and rng.random() < 0.08:
                events.append((i, rng.choice(("returned", "transferred", "escalated")), created + timedelta(hours=1)))
            yield (i, status, category, sub, DEPARTMENTS.get(sub), "normal", 0.8, "sms",
                   f"+86138{rng.randrange(10 ** 8):08d}" if source == "resident" else members[member_id - 1][1], "",
                   grid, handler, text, "{}", created, created, created, created + timedelta(hours=8), due, acked,
                   resolved, resolved if status == "closed" else None, bool(resolved and resolved > due), rating, 0, 0, 0,
                   source, member_id if source != "resident" else None, member_id if acked else None,
                   member_id if done else None, "sms", index_text(text))
    copy_rows(raw, "cases", columns, cases())
    copy_rows(raw, "case_events", ["case_id", "type", "at", "actor", "channel", "note", "data"],
              ((c, t, at, "bench", "sms", "", "{}") for c, t, at in events))
    raw.execute("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))")
    raw.commit()
    raw.execute("ANALYZE")
    raw.commit()
    raw.close()
    return {"load_seconds": time.perf_counter() - t0, "street": "D-S1", "events": len(events)}


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a database kept by --keep, without loading")
    args = parser.parse_args()
    name = DATABASE_URL.rsplit("/", 1)[1]
    if not args.reuse:
        create_database(name)
    os.environ.update(GRIDLINE_DATABASE_URL=DATABASE_URL, GRIDLINE_REDIS_URL=REDIS_URL, GRIDLINE_SECRET_KEY="bench",
                      GRIDLINE_INSTANCE_PATH=str(Path("/tmp") / f"gridline-scale-{os.getpid()}"))
    try:
        info = {"load_seconds": 0.0, "events": 0} if args.reuse else load(DATABASE_URL, args.cases)
        print(f"loaded {STREETS} streets, {COMMUNITIES} communities, {GRIDS} grids, {MEMBERS} members, "
              f"{args.cases:,} cases over 3 years ({info['events']:,} rehandling events) in {info['load_seconds']:.1f} s")
        print(f"load average before measuring: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")
        measure(args)
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        from workers import runtime

        runtime.reset()
        if not args.keep:
            drop_database(name)


def measure(args) -> None:
    from gateway import create_app
    from gateway.caseviews import case_query
    from gateway.export import write_cases
    from gateway.access import Viewer
    from gateway.cli import save_user
    from gateway.caseviews import new_token
    from models import User

    app = create_app()
    rt = app.extensions["gridline"]
    rt.now = lambda: datetime(2026, 11, 30, 2, 0)
    import gateway.cli as cli_module

    cli_module._app = lambda: app
    save_user("sup", "bench-pass-1", "supervisor", None, "D-S1", "街道督办")  # (re)set, also on --reuse
    save_user("boss", "bench-pass-1", "admin", None, None, "区管理员")
    tokens = {}
    with rt.db.session() as session:
        for username in ("sup", "boss"):
            tokens[username] = new_token(session, session.scalar(sa.select(User).where(User.username == username)), "bench")
    clients = {}
    for username in ("sup", "boss"):
        client = app.test_client()
        page = client.get("/console/login").data.decode()
        import re

        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        client.post("/console/login", data={"username": username, "password": "bench-pass-1", "csrf": csrf})
        clients[username] = client
    pages = [
        ("dashboard, November", "/console/dashboard?from=2026-11-01&to=2026-11-30"),
        ("dashboard, one year", "/console/dashboard?from=2025-12-01&to=2026-11-30"),
        ("stats API by grid, year", "/api/v1/stats?from=2025-12-01&to=2026-11-30&by=grid"),
        ("ranking by member, month", "/console/ranking?from=2026-11-01&to=2026-11-30&by=member"),
        ("case list, page 1", "/api/v1/cases?page=1&per_page=50"),
        ("case list, page 200", "/api/v1/cases?page=200&per_page=50"),
        ("list: open livelihood in a community", "/api/v1/cases?status=assigned&category=livelihood&area=D-C1"),
        ("search 路灯坏", "/api/v1/cases?q=%E8%B7%AF%E7%81%AF%E5%9D%8F"),
        ("search case number", "/api/v1/cases?q=150000"),
    ]
    rows = []
    for label, path in pages:
        for username, role in (("sup", "street supervisor"), ("boss", "district admin")):
            headers = {"Authorization": f"Bearer {tokens[username]}"} if path.startswith("/api") else {}
            client = clients[username]
            first = client.get(path, headers=headers)
            assert first.status_code == 200, (path, first.status_code, first.data[:300])
            times = timed(lambda: client.get(path, headers=headers), args.repeat)
            total = first.get_json().get("total") if path.startswith("/api/v1/cases") else ""
            rows.append((label, role, statistics.median(times), max(times), total))
    print(f"\n{'page':<38} {'as':<18} {'p50 ms':>8} {'max ms':>8} {'rows':>8}")
    for label, role, p50, p95, total in rows:
        print(f"{label:<38} {role:<18} {p50:8.0f} {p95:8.0f} {total!s:>8}")

    path = f"/tmp/gridline-scale-export-{os.getpid()}.xlsx"
    labels = rt.rules.classifier.labels()
    sampler = RssSampler()
    t, cpu = time.perf_counter(), time.process_time()
    with sampler, rt.db.session() as session:
        count = write_cases(path, session, case_query(Viewer("admin"), {}, "postgresql"), labels, args.export_rows)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    size = os.path.getsize(path) / 1e6
    os.unlink(path)
    print(f"\nxlsx export of {count:,} cases: {seconds:.1f} s ({cpu:.1f} s CPU in this process), {size:.1f} MB file, process RSS {sampler.start / 1e6:.0f} MB "
          f"before, peak {sampler.peak / 1e6:.0f} MB during (+{(sampler.peak - sampler.start) / 1e6:.0f} MB)")


class RssSampler:
    """Samples this process's resident memory every 20 ms (Linux /proc) while in the block."""

    def __enter__(self):
        import threading

        self.start = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()


if __name__ == "__main__":
    main()
