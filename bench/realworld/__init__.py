"""Real-world benchmark: pinned third-party projects, our own labels, coderev scored next to Bandit and Semgrep."""
