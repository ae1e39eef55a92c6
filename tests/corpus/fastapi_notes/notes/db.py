"""SQLAlchemy access to the notes table."""

from sqlalchemy import create_engine, text

from notes import settings

engine = create_engine(settings.DATABASE_URL)


def note_by_id(note_id: int):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM notes WHERE id = :id"), {"id": note_id}).first()


def search(term: str):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT * FROM notes WHERE body LIKE '%{term}%'")).all()


def search_safe(term: str):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM notes WHERE body LIKE :term"), {"term": f"%{term}%"}).all()


def delete_many(ids: list[str]):
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM notes WHERE id IN (" + ",".join(ids) + ")"))


def delete_many_safe(ids: list[str]):
    clean = [str(int(i)) for i in ids]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM notes WHERE id IN (" + ",".join(clean) + ")"))
