"""What several classes share, imported (never copied): configuration reading for checks
(config_reader), edit helpers and the cookie and TLS rewriters for rewriters."""
