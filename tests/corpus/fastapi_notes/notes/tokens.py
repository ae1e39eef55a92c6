"""Share links, invitations and one-time codes (insecure randomness corpus)."""

import random
import secrets
import string
import uuid

ALPHABET = string.ascii_letters + string.digits
RNG = random.Random()


def make_share_token():
    return "".join(random.choice(ALPHABET) for _ in range(24))  # label: insecure-randomness


def make_share_token_safe():
    return "".join(secrets.choice(ALPHABET) for _ in range(24))  # label: safe insecure-randomness


def new_invite(email):
    invite_code = random.randint(100000, 999999)  # label: insecure-randomness
    return {"email": email, "code": invite_code}


def new_invite_safe(email):
    invite_code = secrets.randbelow(900000) + 100000  # label: safe insecure-randomness
    return {"email": email, "code": invite_code}


def issue_api_key(user):
    user.api_key = uuid.uuid1().hex  # label: insecure-randomness
    return user.api_key


def issue_api_key_safe(user):
    user.api_key = secrets.token_hex(32)  # label: safe insecure-randomness
    return user.api_key


def reset_password(user):
    temporary_password = "".join(random.sample(ALPHABET, 12))  # label: insecure-randomness
    user.set_password(temporary_password)
    return temporary_password


def pick_color(user):
    color = random.choice(["teal", "amber", "plum"])  # label: safe insecure-randomness
    user.color = color


def session_cookie(response):
    response.set_cookie("sid", str(random.getrandbits(128)), secure=True, httponly=True)  # label: insecure-randomness


def retry_delay(attempt):
    return min(30, 2 ** attempt) + random.random()  # label: safe insecure-randomness


def new_nonce():
    nonce = "%032x" % random.getrandbits(128)  # label: insecure-randomness
    return nonce


def new_salt():
    salt = secrets.token_bytes(16)  # label: safe insecure-randomness
    return salt


def otp_for(user):
    otp = str(random.randrange(10**6)).zfill(6)  # label: insecure-randomness
    user.pending_otp = otp


def sample_notes(notes):
    return random.sample(notes, min(3, len(notes)))  # label: safe insecure-randomness


def generate_csrf_token():
    return uuid.uuid1().hex  # label: insecure-randomness


def request_id():
    return uuid.uuid1().hex  # label: safe insecure-randomness


def magic_link(user):
    login_token = "%x" % RNG.getrandbits(96)  # label: insecure-randomness
    return f"https://notes.example.com/login?token={login_token}"


def remember(user):
    user.remember_token = str(random.random())  # label: insecure-randomness


def shuffle_deck(cards):
    random.shuffle(cards)  # label: safe insecure-randomness
    return cards


def token_length():
    token_length = random.randint(20, 40)  # label: safe insecure-randomness
    return token_length
