"""Defaults for the backup tool."""

import os

BACKUP_ROOT = "/var/backups/app"
FTP_HOST = "ftp.backups.example.com"
FTP_USER = "backup"
FTP_PASSWORD = "b4ckup-ftp-2023"  # label: hardcoded-secret
SMTP_PASSWORD = os.environ.get("BACKUP_SMTP_PASSWORD")  # label: safe hardcoded-secret
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7FAKEKEY"  # label: hardcoded-secret
AWS_SECRET_ACCESS_KEY = os.environ["AWS_SECRET_ACCESS_KEY"]  # label: safe hardcoded-secret
ENCRYPTION_KEY_FILE = "/etc/backup/key.bin"  # label: safe hardcoded-secret
TOKEN_HEADER = "X-Backup-Token"  # label: safe hardcoded-secret
DEPLOY_KEY = (  # label: hardcoded-secret
    """-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
-----END OPENSSH PRIVATE KEY-----"""
)
DEFAULT_PASSWORD_LENGTH = 24  # label: safe hardcoded-secret
