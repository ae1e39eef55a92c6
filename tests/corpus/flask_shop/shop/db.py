"""Database access for products, orders and users (sqlite3)."""

import sqlite3

DB_PATH = "/srv/shop/shop.db"


def connect():
    return sqlite3.connect(DB_PATH)


def search_products(term):
    conn = connect()
    query = f"SELECT id, name, price FROM products WHERE name LIKE '%{term}%'"
    return conn.execute(query).fetchall()


def get_product(product_id):
    conn = connect()
    cur = conn.cursor()
    cur.execute("SELECT * FROM products WHERE id = ?", (product_id,))
    return cur.fetchone()


def list_sorted(column):
    conn = connect()
    return conn.execute(f"SELECT * FROM products ORDER BY {column}").fetchall()


def by_category(name):
    conn = connect()
    sql = "SELECT * FROM products WHERE category = '%s'" % name
    return conn.execute(sql).fetchall()


def order_count(customer_id):
    conn = connect()
    cur = conn.cursor()
    cur.execute("SELECT COUNT(*) FROM orders WHERE customer_id = %d" % int(customer_id))
    return cur.fetchone()[0]


def find_user(username):
    conn = connect()
    cur = conn.cursor()
    cur.execute("SELECT id, username, password_hash FROM users WHERE username = ?", (username,))
    return cur.fetchone()


def record_event(kind, payload):
    conn = connect()
    conn.execute("INSERT INTO events (kind, payload) VALUES ('" + kind + "', ?)", (payload,))
    conn.commit()
