"""Queries that the ORM cannot express."""

from django.db import connection


def posts_with_tag(tag):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, title FROM blog_post WHERE tags LIKE '%" + tag + "%'")
        return cursor.fetchall()


def posts_with_tag_safe(tag):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, title FROM blog_post WHERE tags LIKE %s", ["%" + tag + "%"])
        return cursor.fetchall()


def popular_posts(limit):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, title FROM blog_post ORDER BY views DESC LIMIT {limit}")
        return cursor.fetchall()


def author_stats(author_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM blog_post WHERE author_id = %s" % author_id)
        return cursor.fetchone()
