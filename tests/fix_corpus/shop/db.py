"""Order lookups for the shop: SQL built from request values."""

import sqlite3

from flask import Flask, request

app = Flask(__name__)
DB_PATH = "shop.db"


def connect():
    return sqlite3.connect(DB_PATH)


@app.route("/orders")
def orders():
    customer = request.args["customer"]
    conn = connect()
    rows = conn.execute(f"SELECT id, total FROM orders WHERE customer = '{customer}'").fetchall()
    return {"orders": rows}


@app.route("/orders/search")
def search_orders():
    term = request.args.get("q", "")
    status = request.args.get("status", "open")
    conn = connect()
    cur = conn.cursor()
    query = "SELECT id FROM orders WHERE note LIKE '%" + term + "%' AND status = '" + status + "'"
    cur.execute(query)
    return {"ids": [r[0] for r in cur.fetchall()]}


@app.route("/orders/<int:order_id>/items")
def items(order_id):
    sku = request.args["sku"]
    conn = connect()
    sql = "SELECT qty FROM items WHERE order_id = %d AND sku = '%s'" % (order_id, sku)
    return {"qty": conn.execute(sql).fetchone()}


@app.route("/customers")
def customers():
    city = request.args["city"]
    conn = connect()
    rows = conn.execute("SELECT name FROM customers WHERE city = '{}'".format(city)).fetchall()
    return {"names": [r[0] for r in rows]}
