"""The dashboard's modules are found by following static imports from its entry module."""

from __future__ import annotations

from pathlib import Path

from web.dashboard_page import module_graph


def write(root: Path, address: str, text: str) -> None:
    path = root / address.removeprefix("/static/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_every_form_of_static_import_is_followed_once_and_nothing_else(tmp_path: Path) -> None:
    write(tmp_path, "/static/js/app.js", 'import { a } from "./a.js";\nimport "./side.js";\n'
          "import {\n  b,\n  c,\n} from './b.js';\nexport { d } from \"./d.js\";\n"
          'const text = "import x from \\"./not-a-module.js\\"";\n'
          'import("./lazy.js");\nimport { gone } from "./missing.js";\n')
    write(tmp_path, "/static/js/a.js",
          'import { b } from "./b.js";\nimport { app } from "./app.js";\n')
    write(tmp_path, "/static/js/b.js", 'import lib from "/static/vendor/lib/lib.js";\n')
    write(tmp_path, "/static/js/side.js", 'import x from "../vendor/lib/lib.js";\n')
    write(tmp_path, "/static/js/d.js", "export const d = 1;\n")
    write(tmp_path, "/static/vendor/lib/lib.js",
          "// from a 'minified' file: a from \"x.js\" here\n")
    assert module_graph(tmp_path) == [
        "/static/js/a.js", "/static/js/side.js", "/static/js/b.js", "/static/js/d.js",
        "/static/js/missing.js", "/static/vendor/lib/lib.js"]


def test_a_stray_byte_that_is_not_utf_8_does_not_hide_a_files_imports(tmp_path: Path) -> None:
    write(tmp_path, "/static/js/app.js", 'import { a } from "./a.js";\n')
    (tmp_path / "js" / "a.js").write_bytes(b'// caf\xe9\nimport { b } from "./b.js";\n')
    write(tmp_path, "/static/js/b.js", "export const b = 1;\n")
    assert module_graph(tmp_path) == ["/static/js/a.js", "/static/js/b.js"]
