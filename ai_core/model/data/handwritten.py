"""Hand-written examples (written for coderev): shapes the templates do not cover, vulnerable and safe."""

from __future__ import annotations

from ai_core.findings import SAFE_LABEL
from ai_core.findings import VulnClass as V

SQL, CMD, XSS, SSRF = V.SQL_INJECTION.value, V.COMMAND_INJECTION.value, V.XSS.value, V.SSRF.value
AUTH, SESS, SDE = V.BROKEN_AUTH.value, V.SESSION_FIXATION.value, V.SENSITIVE_DATA_EXPOSURE.value
SECRET, MISCONF, CORS = V.HARDCODED_SECRET.value, V.SECURITY_MISCONFIGURATION.value, V.CORS_MISCONFIGURATION.value
PATH, DESER, SAFE = V.PATH_TRAVERSAL.value, V.INSECURE_DESERIALIZATION.value, SAFE_LABEL

EXAMPLES: list[tuple[str, str]] = [
    (SQL, '''def search_tickets(db, words):
    clauses = " OR ".join(f"subject LIKE '%{w}%'" for w in words)
    return db.execute("SELECT id FROM tickets WHERE " + clauses).fetchall()'''),
    (SAFE, '''def search_tickets(db, words):
    clauses = " OR ".join("subject LIKE ?" for _ in words)
    return db.execute("SELECT id FROM tickets WHERE " + clauses, [f"%{w}%" for w in words]).fetchall()'''),
    (SQL, '''@app.route("/report")
def report():
    year = request.args["year"]
    sql = "SELECT month, SUM(total) FROM sales WHERE year = " + year + " GROUP BY month"
    return jsonify(db.session.execute(text(sql)).all())'''),
    (SAFE, '''@app.route("/report")
def report():
    year = int(request.args["year"])
    sql = "SELECT month, SUM(total) FROM sales WHERE year = :year GROUP BY month"
    return jsonify(db.session.execute(text(sql), {"year": year}).all())'''),
    (CMD, '''def backup(request):
    target = request.POST["dest"]
    os.system("rsync -a /srv/data/ %s" % target)
    return HttpResponse("started")'''),
    (SAFE, '''def backup(request):
    target = DESTINATIONS[request.POST["dest"]]
    subprocess.run(["rsync", "-a", "/srv/data/", target], check=True)
    return HttpResponse("started")'''),
    (CMD, '''async def convert(file_name: str):
    cmd = f"ffmpeg -i uploads/{file_name} -vn out.mp3"
    proc = subprocess.run(cmd, shell=True, capture_output=True)
    return {"code": proc.returncode}'''),
    (SAFE, '''def version_of(tool):
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip()'''),
    (XSS, '''def comment_html(comment):
    return "<li class='comment'><b>" + comment.author + "</b> " + comment.body + "</li>"

@app.route("/comments")
def comments():
    return "".join(comment_html(c) for c in load_comments())'''),
    (SAFE, '''@app.route("/comments")
def comments():
    return render_template("comments.html", comments=load_comments())'''),
    (XSS, '''def greeting(request):
    who = request.GET.get("who", "stranger")
    return HttpResponse(f"<script>greet('{who}')</script>")'''),
    (SSRF, '''@router.post("/preview")
async def preview(link: str):
    async with aiohttp.ClientSession() as session:
        async with session.get(link) as resp:
            return {"title": extract_title(await resp.text())}'''),
    (SAFE, '''@router.post("/preview")
async def preview(article_id: int):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"https://news.example.com/api/articles/{article_id}") as resp:
            return {"title": extract_title(await resp.text())}'''),
    (AUTH, '''def register(username, password):
    hashed = hashlib.sha1(password.encode()).hexdigest()
    db.insert("users", username=username, password=hashed)'''),
    (SAFE, '''def register(username, password):
    hashed = argon2.PasswordHasher().hash(password)
    db.insert("users", username=username, password=hashed)'''),
    (AUTH, '''def is_admin(request):
    return request.headers.get("X-Admin-Token") == ADMIN_TOKEN'''),
    (SAFE, '''def is_admin(request):
    return hmac.compare_digest(request.headers.get("X-Admin-Token", ""), ADMIN_TOKEN)'''),
    (SESS, '''@app.post("/login")
def login():
    user = check_credentials(request.form["email"], request.form["password"])
    if user:
        session["uid"] = user.id
        session["role"] = user.role
        return redirect(url_for("home"))
    abort(401)'''),
    (SAFE, '''@app.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("login"))'''),
    (SDE, '''def charge(card_number, amount):
    logger.warning("charging card %s amount %s", card_number, amount)
    return gateway.charge(card_number, amount)'''),
    (SAFE, '''def charge(card_number, amount):
    logger.warning("charging card ending %s amount %s", card_number[-4:], amount)
    return gateway.charge(card_number, amount)'''),
    (SDE, '''@app.errorhandler(Exception)
def on_error(exc):
    return jsonify(error=str(exc), trace=traceback.format_exc()), 500'''),
    (SECRET, '''SMTP_HOST = "smtp.example.com"
SMTP_USER = "mailer@example.com"
SMTP_PASSWORD = "q7!Lm2#Vx9pR"'''),
    (SAFE, '''SMTP_HOST = "smtp.example.com"
SMTP_USER = "mailer@example.com"
SMTP_PASSWORD = os.environ["SMTP_PASSWORD"]'''),
    (SECRET, '''client = OpenAIClient(api_key="sk-proj-4fT9xQ2mLp8Rz6Vw1yB3nC5dK7hJ0aE")'''),
    (MISCONF, '''if __name__ == "__main__":
    app.debug = True
    app.run(host="0.0.0.0")'''),
    (SAFE, '''if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8000")))'''),
    (MISCONF, '''SECURE_SSL_REDIRECT = False
SESSION_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "ALLOWALL"'''),
    (CORS, '''@app.after_request
def add_cors(response):
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Credentials"] = "true"
    return response'''),
    (SAFE, '''@app.after_request
def add_cors(response):
    response.headers["Access-Control-Allow-Origin"] = "https://app.example.com"
    response.headers["Vary"] = "Origin"
    return response'''),
    (PATH, '''@app.get("/download")
def download():
    name = request.args.get("file")
    return open("/var/reports/" + name, "rb").read()'''),
    (SAFE, '''@app.get("/download")
def download():
    name = request.args.get("file")
    return send_from_directory("/var/reports", name)'''),
    (PATH, '''def save_upload(upload):
    dest = os.path.join(UPLOAD_DIR, upload.filename)
    upload.save(dest)
    return dest'''),
    (SAFE, '''def save_upload(upload):
    dest = os.path.join(UPLOAD_DIR, secure_filename(upload.filename))
    upload.save(dest)
    return dest'''),
    (DESER, '''def restore_session(request):
    raw = request.COOKIES.get("state")
    state = pickle.loads(bytes.fromhex(raw))
    return state'''),
    (SAFE, '''def restore_session(request):
    raw = request.COOKIES.get("state")
    state = signing.loads(raw, salt="state")
    return state'''),
    (DESER, '''@app.post("/import")
def import_config():
    cfg = yaml.load(request.data, Loader=yaml.FullLoader)
    apply(cfg)
    return "ok"'''),
]
