"""Build the sales report's example data: sales.sqlite (orders by month, region and product; monthly
targets).  Deterministic: the same script always writes the same rows.  Run: python make_data.py"""
from __future__ import annotations

import random
import sqlite3
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGIONS = [("east", "华东", "East"), ("north", "华北", "North"), ("south", "华南", "South"),
           ("west", "西部", "West"), ("northeast", "东北", "Northeast")]
PRODUCTS = [("docs", "文档版", "Docs"), ("studio", "设计版", "Studio"), ("api", "接口版", "API")]
MONTHS = [f"{y}-{m:02d}" for y, m in [(2025, 12)] + [(2026, k) for k in range(1, 13)] + [(2027, 1), (2027, 2), (2027, 3)]]


def build(path: Path = HERE / "sales.sqlite") -> Path:
    rng = random.Random(2026)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.executescript("""
        CREATE TABLE regions (code TEXT PRIMARY KEY, name_zh TEXT NOT NULL, name_en TEXT NOT NULL);
        CREATE TABLE sales (month TEXT NOT NULL, region TEXT NOT NULL REFERENCES regions(code),
                            product TEXT NOT NULL, orders INTEGER NOT NULL, amount REAL NOT NULL);
        CREATE TABLE targets (month TEXT PRIMARY KEY, target REAL NOT NULL);
    """)
    db.executemany("INSERT INTO regions VALUES (?, ?, ?)", REGIONS)
    size = {"east": 1.6, "north": 1.2, "south": 1.4, "west": 0.7, "northeast": 0.5}
    for k, month in enumerate(MONTHS):
        growth = 1 + 0.025 * k
        total = 0.0
        for code, _, _ in REGIONS:
            for prod, _, _ in PRODUCTS:
                orders = int(rng.randint(180, 420) * size[code] * growth)
                amount = round(orders * rng.uniform(2600, 4200), 2)
                total += amount
                db.execute("INSERT INTO sales VALUES (?, ?, ?, ?, ?)", (month, code, prod, orders, amount))
        db.execute("INSERT INTO targets VALUES (?, ?)", (month, round(total * rng.uniform(0.92, 1.08) / 1e4) * 1e4))
    db.commit()
    db.close()
    tmp.replace(path)
    return path


if __name__ == "__main__":
    print(build())
