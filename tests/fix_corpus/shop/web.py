"""Pages of the shop: HTML built by hand, a template from a string, a product proxy."""

import os

import requests
from flask import Flask, make_response, render_template_string, request, send_file

app = Flask(__name__)
IMAGES = "/srv/shop/images"


@app.route("/hello")
def hello():
    name = request.args.get("name", "guest")
    return f"<h1>Welcome back, {name}!</h1>"


@app.route("/review")
def review():
    text = request.form["text"]
    author = request.form["author"]
    body = "<blockquote>" + text + "</blockquote><cite>" + author + "</cite>"
    return make_response(body)


@app.route("/banner")
def banner():
    title = request.args["title"]
    return render_template_string(f"<div class='banner'>{title}</div>")


@app.route("/image")
def image():
    filename = request.args["file"]
    return send_file(os.path.join(IMAGES, filename))


@app.route("/proxy")
def proxy():
    target = request.args["url"]
    response = requests.get(target, timeout=10)
    return response.content


@app.route("/preview")
def preview():
    link = request.args["link"]
    return requests.get(link, timeout=5).text[:200]
