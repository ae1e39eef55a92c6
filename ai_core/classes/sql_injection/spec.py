"""SQL injection (CWE-89): request data spliced into SQL text lets the client rewrite the query.

Fix: pass values as parameters (`cursor.execute("... WHERE id = ?", (uid,))`, Django `.filter()`,
SQLAlchemy `text("... :id").bindparams(id=uid)`); for identifiers use an allowlist or
`psycopg2.sql.Identifier`.
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ClassSpec, Sanitizer, Sink
from ai_core.findings import Severity, VulnClass

SQL = VulnClass.SQL_INJECTION

_SQLISH = (r"(?i)(cur\b|curs|cursor|conn\b|connection|\bdb\b|_db\b|\bdb_|database|session|engine|\bsql|sql\b|"
           r"query|objects|select\s|insert\s|update\s|delete\s|\swhere\s|\bfrom\s|\bcon\b|\bc\b|\btx\b)")
"""Receivers or text that make a `.execute(...)` on an object of unknown type a database call."""

SPEC = ClassSpec(
    vuln_class=SQL,
    sinks=(
        Sink(
            id="sql.dbapi-execute",
            vuln_class=SQL,
            patterns=("*.execute", "*.executemany", "*.executescript"),
            args=(0, "sql", "query", "operation", "statement", "sql_script"),
            context=_SQLISH,
            severity=Severity.HIGH,
            confidence=0.9,
            reason="DB-API cursors and connections (sqlite3, psycopg, pymysql, Django, SQLAlchemy) run the "
                   "first argument as SQL; only the separate parameters are escaped.",
            example='cursor.execute(f"SELECT * FROM users WHERE name = \'{name}\'")',
            title="SQL built from untrusted data",
        ),
        Sink(
            id="sql.django-raw",
            vuln_class=SQL,
            patterns=("*.objects.raw", "*.raw"),
            args=(0, "raw_query"),
            context=_SQLISH,
            reason="Manager.raw() runs its query text as is.",
            example='User.objects.raw("SELECT * FROM auth_user WHERE username = \'%s\'" % name)',
            title="Django raw() with untrusted SQL",
        ),
        Sink(
            id="sql.django-extra",
            vuln_class=SQL,
            patterns=("*.extra",),
            args=("where", "select", "tables", "order_by"),
            context=r"objects|where=|select=|tables=|order_by=",
            reason="QuerySet.extra() pastes its where/select/tables/order_by strings into the SQL.",
            example='Entry.objects.extra(where=[f"title = \'{title}\'"])',
            title="Django extra() with untrusted SQL",
        ),
        Sink(
            id="sql.django-rawsql",
            vuln_class=SQL,
            patterns=("django.db.models.expressions.RawSQL", "django.db.models.RawSQL"),
            args=(0, "sql"),
            reason="RawSQL() embeds its SQL text in the generated query.",
            example='qs.annotate(x=RawSQL(f"SELECT {col} FROM t", []))',
            title="Django RawSQL with untrusted SQL",
        ),
        Sink(
            id="sql.sqlalchemy-text",
            vuln_class=SQL,
            patterns=("sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text"),
            args=(0, "text"),
            reason="text() marks a string as literal SQL; values must go in bind parameters instead.",
            example='session.execute(text(f"DELETE FROM items WHERE id = {item_id}"))',
            title="SQLAlchemy text() with untrusted SQL",
        ),
        Sink(
            id="sql.pandas-read-sql",
            vuln_class=SQL,
            patterns=("pandas.read_sql", "pandas.read_sql_query"),
            args=(0, "sql"),
            reason="pandas runs the query text on the connection.",
            example='pd.read_sql(f"SELECT * FROM sales WHERE region = \'{region}\'", conn)',
            title="pandas.read_sql with untrusted SQL",
        ),
        Sink(
            id="sql.psycopg-sql",
            vuln_class=SQL,
            patterns=("psycopg2.sql.SQL", "psycopg.sql.SQL"),
            args=(0,),
            reason="sql.SQL() is for trusted query text; untrusted parts belong in sql.Identifier/Literal.",
            example='sql.SQL("SELECT * FROM " + table)',
            title="psycopg sql.SQL with untrusted text",
        ),
    ),
    sanitizers=(
        Sanitizer(
            id="sql.sanitize.psycopg-composables",
            patterns=("psycopg2.sql.Identifier", "psycopg2.sql.Literal", "psycopg.sql.Identifier",
                      "psycopg.sql.Literal"),
            classes=frozenset({SQL}),
            reason="Identifier/Literal quote their content for the target database.",
            example='sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))',
        ),
        Sanitizer(
            id="sql.sanitize.quote-name",
            patterns=("*.quote_name", "*.escape_string", "pymysql.converters.escape_string",
                      "MySQLdb.escape_string"),
            classes=frozenset({SQL}),
            reason="The driver's own quoting functions escape identifiers and literals.",
            example='f"SELECT * FROM {connection.ops.quote_name(table)}"',
        ),
    ),
)
