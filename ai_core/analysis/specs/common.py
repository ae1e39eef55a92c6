"""Specs shared by every class: types of library objects, generic propagators and universal sanitizers."""

from __future__ import annotations

from ai_core.analysis.specs.model import NORMALIZED, Propagator, Sanitizer
from ai_core.findings import VulnClass


def _type(id_: str, returns: str, *patterns: str, example: str) -> Propagator:
    return Propagator(id=id_, patterns=patterns, kind="type", returns=returns, example=example,
                      reason=f"returns a {returns}, so methods called on it resolve to {returns}.<method>")


TYPES: tuple[Propagator, ...] = (
    _type("type.sqlite3-connection", "sqlite3.Connection", "sqlite3.connect", example="conn = sqlite3.connect(p)"),
    _type("type.sqlite3-cursor", "sqlite3.Cursor", "sqlite3.Connection.cursor", example="cur = conn.cursor()"),
    _type("type.dbapi-connection", "dbapi.Connection", "psycopg2.connect", "psycopg.connect", "pymysql.connect",
          "MySQLdb.connect", "mysql.connector.connect", "psycopg.Connection.connect",
          example="conn = psycopg2.connect(dsn)"),
    _type("type.dbapi-cursor", "dbapi.Cursor", "dbapi.Connection.cursor", "django.db.connection.cursor",
          example="with connection.cursor() as cursor: ..."),
    _type("type.requests-session", "requests.Session", "requests.Session", "requests.session",
          example="s = requests.Session()"),
    _type("type.httpx-client", "httpx.Client", "httpx.Client", example="client = httpx.Client()"),
    _type("type.httpx-async-client", "httpx.AsyncClient", "httpx.AsyncClient",
          example="async with httpx.AsyncClient() as client: ..."),
    _type("type.aiohttp-session", "aiohttp.ClientSession", "aiohttp.ClientSession",
          example="async with aiohttp.ClientSession() as session: ..."),
    _type("type.urllib3-pool", "urllib3.PoolManager", "urllib3.PoolManager", example="http = urllib3.PoolManager()"),
    _type("type.tarfile", "tarfile.TarFile", "tarfile.open", "tarfile.TarFile", "tarfile.TarFile.open",
          example="tar = tarfile.open(upload)"),
    _type("type.zipfile", "zipfile.ZipFile", "zipfile.ZipFile", example="zf = zipfile.ZipFile(upload)"),
    _type("type.path", "pathlib.Path", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath",
          "pathlib.Path.joinpath", "pathlib.Path.with_name", "pathlib.Path.with_suffix",
          "pathlib.Path.absolute", "pathlib.Path.expanduser", example="p = Path(base) / name"),
    _type("type.markup", "markupsafe.Markup", "markupsafe.Markup", "flask.Markup", "jinja2.Markup",
          "markupsafe.escape", "flask.escape", "jinja2.escape", example="html = Markup('<b>%s</b>') % name"),
    _type("type.jinja2-environment", "jinja2.Environment", "jinja2.Environment", example="env = Environment()"),
    _type("type.sqlalchemy-engine", "sqlalchemy.Engine", "sqlalchemy.create_engine",
          example="engine = create_engine(url)"),
    _type("type.sqlalchemy-connection", "sqlalchemy.Connection", "sqlalchemy.Engine.connect",
          "sqlalchemy.Engine.begin", example="with engine.connect() as conn: ..."),
    _type("type.smtp", "smtplib.SMTP", "smtplib.SMTP", example="server = smtplib.SMTP(host)"),
    _type("type.ftp", "ftplib.FTP", "ftplib.FTP", example="ftp = ftplib.FTP(host)"),
    _type("type.logger", "logging.Logger", "logging.getLogger", example="log = logging.getLogger(__name__)"),
    _type("type.flask-app", "flask.Flask", "flask.Flask", example="app = Flask(__name__)"),
    _type("type.flask-blueprint", "flask.Blueprint", "flask.Blueprint", example="bp = Blueprint('api', __name__)"),
    _type("type.fastapi-app", "fastapi.FastAPI", "fastapi.FastAPI", example="app = FastAPI()"),
    _type("type.fastapi-router", "fastapi.APIRouter", "fastapi.APIRouter", example="router = APIRouter()"),
    _type("type.typer-app", "typer.Typer", "typer.Typer", example="cli = typer.Typer()"),
    _type("type.flask-response", "flask.Response", "flask.make_response", "flask.Response", "flask.jsonify",
          "flask.send_file", "flask.send_from_directory", "flask.redirect", "werkzeug.utils.redirect",
          example="resp = make_response(body)"),
    _type("type.django-response", "django.http.HttpResponse", "django.http.HttpResponse",
          "django.http.JsonResponse", "django.shortcuts.render", example="resp = HttpResponse(body)"),
)

PROPAGATORS: tuple[Propagator, ...] = (
    Propagator(
        id="propagate.strings",
        patterns=("str", "bytes", "bytearray", "repr", "format", "str.join", "str.format", "*.format",
                  "*.format_map", "*.join", "*.replace", "*.decode", "*.encode", "*.ljust", "*.rjust"),
        reason="String building keeps every piece of its input in the result.",
        example='sql = "SELECT {} FROM t".format(column)',
    ),
    Propagator(
        id="propagate.containers",
        patterns=("list", "tuple", "set", "frozenset", "dict", "sorted", "reversed", "copy.copy",
                  "copy.deepcopy", "collections.OrderedDict", "itertools.chain", "zip", "map", "filter"),
        reason="Containers built from tainted values hold tainted values.",
        example="parts = list(request.args.values())",
    ),
    Propagator(
        id="propagate.codecs",
        patterns=("base64.b64decode", "base64.urlsafe_b64decode", "base64.b64encode", "binascii.unhexlify",
                  "bytes.fromhex", "json.loads", "json.load", "urllib.parse.unquote", "urllib.parse.unquote_plus",
                  "urllib.parse.parse_qs", "urllib.parse.urlencode", "urllib.parse.urljoin",
                  "urllib.parse.urlunparse", "shlex.split", "io.BytesIO", "io.StringIO", "zlib.decompress",
                  "gzip.decompress"),
        reason="Decoding or parsing does not make data trustworthy.",
        example="blob = base64.b64decode(request.form['state'])",
    ),
    Propagator(
        id="propagate.paths",
        patterns=("os.path.join", "os.path.expanduser", "os.path.splitext", "os.fspath", "posixpath.join",
                  "pathlib.Path.joinpath"),
        reason="Joining keeps the untrusted part; os.path.join(base, '/etc/passwd') even drops the base.",
        example="path = os.path.join(UPLOADS, filename)",
    ),
    Propagator(
        id="propagate.normalize",
        patterns=("os.path.realpath", "os.path.abspath", "os.path.normpath", "pathlib.Path.resolve"),
        kind="normalize",
        reason="Normalising resolves '..' but keeps the value tainted; a later prefix check can then prove "
               "containment (see the path-traversal guards).",
        example="full = os.path.realpath(os.path.join(BASE, name))",
    ),
    Propagator(
        id="mutate.containers",
        patterns=("*.append", "*.extend", "*.insert", "*.add", "*.update", "*.appendleft", "*.extendleft",
                  "*.setdefault", "*.write"),
        kind="mutate",
        reason="The receiver absorbs what is added to it.",
        example="args.append(request.args['flag'])",
    ),
    Propagator(
        id="clean.predicates",
        patterns=("len", "bool", "isinstance", "issubclass", "hasattr", "callable", "id", "hash", "type",
                  "print", "any", "all", "*.startswith", "*.endswith", "*.isdigit", "*.isalnum", "*.isalpha",
                  "*.isdecimal", "*.isnumeric", "*.isidentifier", "*.count", "*.index", "*.find", "*.rfind",
                  "os.path.exists", "os.path.isfile", "os.path.isdir", "os.path.getsize", "*.exists",
                  "*.is_file", "*.is_dir", "hmac.compare_digest", "secrets.compare_digest",
                  "uuid.uuid4", "uuid.uuid1", "secrets.token_hex", "secrets.token_urlsafe", "time.time",
                  "hashlib.sha256", "hashlib.md5", "hashlib.sha1", "hashlib.blake2b", "*.hexdigest", "*.digest",
                  "werkzeug.security.generate_password_hash", "werkzeug.security.check_password_hash",
                  "bcrypt.hashpw", "bcrypt.checkpw", "*.check_password", "*.set_password",
                  "django.shortcuts.get_object_or_404", "flask.url_for", "flask.abort",
                  "django.shortcuts.redirect", "flask.render_template", "django.shortcuts.render",
                  "*.objects.filter", "*.objects.get", "*.objects.create", "*.filter", "*.exclude",
                  "*.order_by", "*.fetchone", "*.fetchall", "*.fetchmany", "*.scalar", "*.scalars",
                  "*.first", "*.all", "*.commit", "*.close", "*.save"),
        kind="clean",
        reason="Booleans, numbers, hashes and database rows are not the attacker's text (ORM lookups bind "
               "their arguments as parameters).",
        example="if name.isdigit(): ...",
    ),
)

SANITIZERS: tuple[Sanitizer, ...] = (
    Sanitizer(
        id="sanitize.numeric",
        patterns=("int", "float", "complex", "abs", "round", "ord", "decimal.Decimal", "uuid.UUID",
                  "datetime.date.fromisoformat", "datetime.datetime.fromisoformat", "ipaddress.ip_address",
                  "math.floor", "math.ceil"),
        reason="A number (or UUID, date, IP address) cannot carry an injection payload.",
        example="limit = int(request.args['limit'])",
    ),
    Sanitizer(
        id="sanitize.allowlist",
        patterns=("<in-constant>",),
        kind="builtin",
        reason="`if value in ALLOWED` / `if value not in ALLOWED: abort()` limits the value to known constants.",
        example="if sort not in {'name', 'date'}: abort(400)",
    ),
    Sanitizer(
        id="sanitize.character-class",
        patterns=("*.isdigit", "*.isalnum", "*.isalpha", "*.isdecimal", "*.isnumeric", "*.isidentifier"),
        kind="guard",
        reason="A value proven to be digits or letters cannot carry metacharacters.",
        example="if not order_id.isdigit(): abort(400)",
    ),
    Sanitizer(
        id="sanitize.regex-fullmatch",
        patterns=("re.fullmatch", "<anchored-regex>"),
        kind="guard",
        reason="A whole-string match against a character class rules out metacharacters.",
        example=r"if not re.fullmatch(r'[a-z0-9_-]+', name): abort(400)",
    ),
    Sanitizer(
        id="sanitize.path-prefix",
        patterns=("*.startswith", "*.is_relative_to", "os.path.commonpath"),
        kind="guard",
        classes=frozenset({VulnClass.PATH_TRAVERSAL}),
        requires=NORMALIZED,
        reason="After realpath/abspath/resolve, a prefix check proves the path stays under the base folder.",
        example="full = os.path.realpath(os.path.join(BASE, name))\nif not full.startswith(BASE + os.sep): abort(403)",
    ),
    Sanitizer(
        id="sanitize.signature",
        patterns=("hmac.compare_digest", "secrets.compare_digest", "*.verify"),
        kind="guard",
        by_origin=True,
        classes=frozenset({VulnClass.INSECURE_DESERIALIZATION}),
        reason="Data whose HMAC signature was verified was produced by the server itself.",
        example="if not hmac.compare_digest(sig, expected): abort(403)\nobj = pickle.loads(blob)",
    ),
)
