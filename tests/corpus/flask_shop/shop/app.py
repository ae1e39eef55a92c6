"""The storefront's routes."""

import logging
import os
import subprocess
import traceback

import yaml
from flask import (
    Flask,
    abort,
    jsonify,
    make_response,
    render_template,
    render_template_string,
    request,
    send_file,
    send_from_directory,
    session,
)
from flask_cors import CORS, cross_origin
from markupsafe import escape

from shop import auth, db, files, integrations, render
from shop.cache import load_cart, load_cart_json
from shop.config import ProductionConfig

app = Flask(__name__)
app.config.from_object(ProductionConfig)
CORS(app, supports_credentials=True)  # label: cors-misconfiguration
app.config.update(SESSION_COOKIE_SAMESITE="Lax", REMEMBER_COOKIE_SECURE=False)  # label: security-misconfiguration
log = logging.getLogger("shop")

SORT_COLUMNS = {"name", "price", "created_at"}
REPORT_DIR = "/srv/shop/reports"


@app.route("/search")
def search():
    term = request.args.get("q", "")
    products = db.search_products(term)  # label: sql-injection
    return render_template("search.html", products=products, term=term)  # label: safe xss


@app.route("/products/<int:product_id>")
def product(product_id):
    item = db.get_product(product_id)  # label: safe sql-injection
    if item is None:
        abort(404)
    return render_template("product.html", item=item)


@app.route("/products")
def list_products():
    sort = request.args.get("sort", "name")
    if sort not in SORT_COLUMNS:
        abort(400)
    return jsonify(db.list_sorted(sort))  # label: safe sql-injection


@app.route("/category/<name>")
def category(name):
    return jsonify(db.by_category(name))  # label: sql-injection


@app.route("/customers/<customer_id>/orders")
def order_count(customer_id):
    return jsonify(count=db.order_count(customer_id))  # label: safe sql-injection


@app.route("/events", methods=["POST"])
def record_event():
    kind = request.form["kind"]
    db.record_event(kind, request.form.get("payload", ""))  # label: sql-injection
    return "", 204


@app.route("/hello")
def hello():
    name = request.args.get("name", "guest")
    return render.greeting(name)  # label: xss


@app.route("/hello2")
def hello_safe():
    name = request.args.get("name", "guest")
    return render.safe_greeting(name)  # label: safe xss


@app.route("/badge/<label>")
def badge(label):
    return render.badge(label)  # label: safe xss


@app.route("/reviews", methods=["POST"])
def preview_review():
    text = request.form["text"]
    return render.review_html(text)  # label: xss


@app.route("/greet")
def greet():
    who = request.args.get("who", "")
    return f"<h1>Hello {escape(who)}</h1>"  # label: safe xss


@app.route("/echo")
def echo():
    message = request.args.get("m", "")
    return make_response("<pre>" + message + "</pre>")  # label: xss


@app.route("/page")
def custom_page():
    title = request.args.get("title", "")
    return render_template_string("<title>" + title + "</title>")  # label: code-injection


@app.route("/page2")
def custom_page_safe():
    title = request.args.get("title", "")
    return render_template_string("<title>{{ title }}</title>", title=title)  # label: safe code-injection


@app.route("/api/profile")
def profile_json():
    return jsonify(name=request.args.get("name"))  # label: safe xss


@app.route("/api/stock")
@cross_origin(supports_credentials=True)  # label: cors-misconfiguration
def stock():
    return jsonify(db.list_sorted("name"))


@app.route("/api/partner-stock")
@cross_origin(origins=["https://partner.example.com"], supports_credentials=True)  # label: safe cors-misconfiguration
def partner_stock():
    return jsonify(db.list_sorted("name"))


@app.route("/exports")
def export_csv():
    with open(f"/srv/shop/exports/{request.args['report']}.csv") as handle:  # label: path-traversal
        return handle.read(), 200, {"Content-Type": "text/csv"}


@app.route("/avatar/import", methods=["POST"])
def import_avatar():
    return integrations.import_avatar(request.form["avatar_url"])  # label: ssrf


@app.route("/avatar/gravatar", methods=["POST"])
def gravatar():
    return integrations.gravatar(request.form["email"])  # label: safe ssrf


@app.route("/admin/ping")
def ping():
    host = request.args.get("host", "localhost")
    output = subprocess.check_output(f"ping -c 1 {host}", shell=True)  # label: command-injection
    return jsonify(output=output.decode())


@app.route("/admin/ping2")
def ping_safe():
    host = request.args.get("host", "localhost")
    output = subprocess.check_output(["ping", "-c", "1", host])  # label: safe command-injection
    return jsonify(output=output.decode())


@app.route("/admin/disk")
def disk_usage():
    folder = request.args.get("folder", "uploads")
    if folder not in {"uploads", "invoices", "reports"}:
        abort(400)
    usage = subprocess.getoutput("du -sh /srv/shop/" + folder)  # label: safe command-injection
    return jsonify(usage=usage)


@app.route("/admin/convert", methods=["POST"])
def convert_image():
    name = files.save_upload(request.files["image"])
    os.system("convert /srv/shop/uploads/" + name + " -resize 200x200 thumb.png")  # label: safe command-injection
    return "", 204


@app.route("/invoices/<name>")
def invoice(name):
    return files.read_invoice(name)  # label: path-traversal


@app.route("/invoices2/<name>")
def invoice_checked(name):
    return files.read_invoice_checked(name)  # label: safe path-traversal


@app.route("/reports")
def report():
    filename = request.args.get("file", "")
    return send_file(os.path.join(REPORT_DIR, filename))  # label: path-traversal


@app.route("/reports2")
def report_safe():
    filename = request.args.get("file", "")
    return send_from_directory(REPORT_DIR, filename)  # label: safe path-traversal


@app.route("/uploads/<name>", methods=["DELETE"])
def delete_upload(name):
    files.delete_upload(name)  # label: path-traversal
    return "", 204


@app.route("/uploads2/<name>", methods=["DELETE"])
def delete_upload_safe(name):
    files.delete_upload(os.path.basename(name))  # label: safe path-traversal
    return "", 204


@app.route("/cart")
def cart():
    items = load_cart(request.cookies.get("cart", ""))  # label: insecure-deserialization
    return jsonify(items=items)


@app.route("/cart2")
def cart_json():
    items = load_cart_json(request.cookies.get("cart", ""))  # label: safe insecure-deserialization
    return jsonify(items=items)


@app.route("/import", methods=["POST"])
def import_catalog():
    catalog = yaml.load(request.data, Loader=yaml.Loader)  # label: insecure-deserialization
    return jsonify(count=len(catalog))


@app.route("/import2", methods=["POST"])
def import_catalog_safe():
    catalog = yaml.safe_load(request.data)  # label: safe insecure-deserialization
    return jsonify(count=len(catalog))


@app.route("/images/proxy")
def image_proxy():
    return integrations.fetch_image(request.args["url"])  # label: ssrf


@app.route("/merchants/<merchant_id>/feed")
def merchant_feed(merchant_id):
    return jsonify(integrations.fetch_product_feed(merchant_id))  # label: safe ssrf


@app.route("/webhooks/test", methods=["POST"])
def test_webhook():
    integrations.notify_webhook(request.json["url"], {"text": "test"})  # label: safe ssrf
    return "", 204


@app.route("/login", methods=["POST"])
def login():
    username = request.form["username"]
    password = request.form["password"]
    log.info("login attempt for %s", username)  # label: safe sensitive-data-exposure
    log.debug("login attempt for %s with password %s", username, password)  # label: sensitive-data-exposure
    if not auth.log_in(username, password):
        abort(401)
    return jsonify(ok=True)


@app.route("/checkout", methods=["POST"])
def checkout():
    try:
        result = integrations.charge(request.form["token"], request.form["amount"], os.environ["PAY_KEY"])
    except Exception:
        return jsonify(error=traceback.format_exc()), 500  # label: sensitive-data-exposure
    return jsonify(result)


@app.route("/checkout2", methods=["POST"])
def checkout_safe():
    try:
        result = integrations.charge(request.form["token"], request.form["amount"], os.environ["PAY_KEY"])
    except Exception:
        log.exception("charge failed")
        return jsonify(error="payment failed"), 500  # label: safe sensitive-data-exposure
    return jsonify(result)


@app.route("/theme", methods=["POST"])
def set_theme():
    auth.remember_theme(request.form.get("theme", "light"))
    response = make_response("", 204)
    response.set_cookie("theme", request.form.get("theme", "light"))  # label: safe security-misconfiguration
    return response


@app.route("/sso")
def sso_callback():
    response = make_response(jsonify(ok=True))
    response.set_cookie("session_id", request.args["sid"])  # label: session-fixation, security-misconfiguration
    return response


@app.route("/sso2")
def sso_callback_safe():
    response = make_response(jsonify(ok=True))
    response.set_cookie("session_id", os.urandom(16).hex(), secure=True, httponly=True)  # label: safe session-fixation, safe security-misconfiguration
    return response


@app.after_request
def add_cors_headers(response):
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "")  # label: cors-misconfiguration
    response.headers["Access-Control-Allow-Credentials"] = "true"
    return response
