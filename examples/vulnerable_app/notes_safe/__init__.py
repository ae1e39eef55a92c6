"""The same notes service, written safely: coderev stays silent here."""
