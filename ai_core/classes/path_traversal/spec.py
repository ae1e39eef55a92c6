"""Path traversal (CWE-22): a client-chosen path ('../../etc/passwd') reaches the file system.

Fix: keep only the name (`os.path.basename`, `secure_filename`), use `send_from_directory`/`safe_join`,
or resolve the path and check it stays under the base folder.
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ArgTest, ClassSpec, Sanitizer, Sink
from ai_core.findings import Severity, VulnClass

PATH = VulnClass.PATH_TRAVERSAL

_PATH_METHODS = tuple(f"pathlib.Path.{m}" for m in (
    "open", "read_text", "read_bytes", "write_text", "write_bytes", "unlink", "rmdir", "mkdir", "touch",
    "iterdir", "rename", "replace", "symlink_to", "chmod"))

SPEC = ClassSpec(
    vuln_class=PATH,
    sinks=(
        Sink(
            id="path.open",
            vuln_class=PATH,
            patterns=("open", "builtins.open", "io.open", "codecs.open", "os.open", "aiofiles.open",
                      "io.FileIO", "gzip.open", "bz2.open", "lzma.open"),
            args=(0, "file", "filename", "path"),
            confidence=0.85,
            reason="Opening a client-chosen path reads or overwrites any file the process can reach.",
            example="open(os.path.join(UPLOADS, request.args['name']))",
            title="file opened at a path chosen by untrusted data",
        ),
        Sink(
            id="path.file-operation",
            vuln_class=PATH,
            patterns=("os.remove", "os.unlink", "os.rmdir", "os.removedirs", "os.mkdir", "os.makedirs",
                      "os.listdir", "os.scandir", "os.rename", "os.replace", "os.chmod", "os.chown",
                      "os.truncate", "os.walk", "shutil.rmtree", "shutil.copy", "shutil.copy2", "shutil.copyfile",
                      "shutil.copytree", "shutil.move", "glob.glob"),
            args=(0, 1, "path", "src", "dst", "top", "pathname"),
            confidence=0.8,
            reason="Deleting, listing, copying or moving at a client-chosen path escapes the intended folder.",
            example="os.remove(os.path.join(CACHE, key))",
            title="file operation at a path chosen by untrusted data",
        ),
        Sink(
            id="path.pathlib",
            vuln_class=PATH,
            patterns=_PATH_METHODS,
            args=("self", 0, "target"),
            confidence=0.8,
            reason="pathlib methods act on the path they are called on.",
            example="(Path(ROOT) / name).read_text()",
            title="pathlib access at a path chosen by untrusted data",
        ),
        Sink(
            id="path.send-file",
            vuln_class=PATH,
            patterns=("flask.send_file", "flask.helpers.send_file", "starlette.responses.FileResponse",
                      "fastapi.responses.FileResponse", "django.views.static.serve"),
            args=(0, "path_or_file", "filename_or_fp", "path"),
            confidence=0.85,
            reason="send_file/FileResponse serve any file they are pointed at; send_from_directory is the safe "
                   "variant.",
            example="return send_file(os.path.join(REPORTS, request.args['f']))",
            title="file served from a path chosen by untrusted data",
        ),
        Sink(
            id="path.send-from-directory-root",
            vuln_class=PATH,
            patterns=("flask.send_from_directory", "flask.helpers.send_from_directory"),
            args=(0, "directory"),
            confidence=0.8,
            reason="send_from_directory only keeps the file name inside the directory; a client-chosen directory "
                   "serves any folder.",
            example="return send_from_directory(request.args['dir'], 'report.pdf')",
            title="files served from a directory chosen by untrusted data",
        ),
        Sink(
            id="path.archive-extract",
            vuln_class=PATH,
            patterns=("tarfile.TarFile.extractall", "tarfile.TarFile.extract", "shutil.unpack_archive"),
            args=("self", 0),
            unless=(ArgTest("filter"), ArgTest("members")),
            structural=True,
            structural_confidence=0.7,
            severity=Severity.HIGH,
            reason="Tar members named '../x' or absolute paths are written outside the target folder unless a "
                   "filter (filter='data') or a checked member list is used.",
            example="tarfile.open(upload).extractall(dest)",
            title="tar archive extracted without a member filter",
        ),
    ),
    sanitizers=(
        Sanitizer(
            id="path.sanitize.basename",
            patterns=("os.path.basename", "posixpath.basename", "ntpath.basename"),
            classes=frozenset({PATH}),
            reason="A bare file name cannot climb out of the folder it is joined to.",
            example="name = os.path.basename(upload.filename)",
        ),
        Sanitizer(
            id="path.sanitize.secure-filename",
            patterns=("werkzeug.utils.secure_filename", "werkzeug.secure_filename",
                      "django.utils.text.get_valid_filename", "django.utils.text.slugify", "slugify.slugify"),
            reason="secure_filename/slugify keep only letters, digits, '-', '_' and '.': no separators, quotes or "
                   "shell metacharacters survive.",
            example="name = secure_filename(upload.filename)",
        ),
        Sanitizer(
            id="path.sanitize.safe-join",
            patterns=("flask.safe_join", "werkzeug.utils.safe_join", "werkzeug.security.safe_join",
                      "django.utils._os.safe_join"),
            classes=frozenset({PATH}),
            reason="safe_join refuses paths that leave the base folder.",
            example="path = safe_join(UPLOADS, name)",
        ),
        Sanitizer(
            id="path.sanitize.path-name",
            patterns=("pathlib.Path.name", "pathlib.Path.stem", "pathlib.Path.suffix"),
            kind="attribute",
            classes=frozenset({PATH}),
            reason="Path(x).name is the last component only.",
            example="dest = UPLOADS / Path(upload.filename).name",
        ),
    ),
)
