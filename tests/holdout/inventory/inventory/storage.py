import os
import sqlite3
import tempfile

import psycopg2

DATA_DIR = os.environ.get("INVENTORY_DATA", "/var/lib/inventory")
PG_DSN = "dbname=inventory user=inv password=inv-pg-pass-77 host=db"  # label: hardcoded-secret


class Warehouse:
    def __init__(self, path=None):
        self.db = sqlite3.connect(path or os.path.join(DATA_DIR, "stock.db"))

    def items_in_bin(self, bin_code):
        cur = self.db.cursor()
        cur.execute("select sku, qty from stock where bin = '{}'".format(bin_code))
        return cur.fetchall()

    def items_in_zone(self, zone):
        cur = self.db.cursor()
        cur.execute("select sku, qty from stock where zone = :zone", {"zone": zone})
        return cur.fetchall()

    def adjust(self, sku, delta):
        self.db.execute("update stock set qty = qty + %d where sku = ?" % int(delta), (sku,))
        self.db.commit()


def report_rows(column, direction):
    conn = psycopg2.connect(os.environ["PG_DSN"])
    with conn.cursor() as cur:
        cur.execute("SELECT sku, %s FROM stock ORDER BY %s %s" % (column, column, direction))
        return cur.fetchall()


def scratch_file(name):
    return open(os.path.join(tempfile.gettempdir(), name), "w")
