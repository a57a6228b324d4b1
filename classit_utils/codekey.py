"""What a result's code is: the `classit_utils` modules a piece of work runs, found by walking the imports
with `ast` (a module that imports by name at run time, `importlib.import_module`, counts as importing its
whole package, unless the call's line says `# codekey: caller`: the module named is one the caller already
imports, as with `fanout` running a job's function), and the versions of the libraries that change numbers. Stage keys (`pipeline`) and job keys
(`fanout`) are built from it, so neither can go stale when a module deep in the import chain changes."""
from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

from .config import REPO_ROOT
from .records import KEY_LIBS, versions

PACKAGE = "classit_utils"
PACKAGE_DIR = REPO_ROOT / PACKAGE


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _module_file(name: str) -> Path | None:
    """The file of `classit_utils.<name>` (dotted), a module or a package's `__init__`."""
    base = PACKAGE_DIR.joinpath(*name.split(".")) if name else PACKAGE_DIR
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE_DIR).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(tree: ast.AST, package: str, lines: list[str] = ()) -> set[str]:
    """`classit_utils` modules (dotted, relative to the package) that `tree` imports anywhere (lazy imports
    inside functions included); `package` is the importing module's package, for relative imports."""
    out: set[str] = set()

    def add(name: str, names: list[str] = ()) -> None:
        if _module_file(name) is not None:
            out.add(name)
        for n in names:        # `from x import y` where y is a submodule
            sub = f"{name}.{n}" if name else n
            if _module_file(sub) is not None:
                out.add(sub)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == PACKAGE or a.name.startswith(PACKAGE + "."):
                    add(a.name[len(PACKAGE) + 1:])
        elif isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
            if node.level == 0:
                if node.module and (node.module == PACKAGE or node.module.startswith(PACKAGE + ".")):
                    add(node.module[len(PACKAGE) + 1:], names)
            else:
                parts = package.split(".") if package else []
                parts = parts[:len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join(parts + ([node.module] if node.module else []))
                add(base, names)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module"):
            if node.lineno <= len(lines) and "# codekey: caller" in lines[node.lineno - 1]:
                continue
            out.add(package + ".*" if package else "*")      # imports by name: the whole package
    return out


@functools.cache
def _module_imports(path: Path) -> frozenset[str]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    text = path.read_text()
    return frozenset(_imports(ast.parse(text, str(path)), package, text.splitlines()))


def _expand(name: str) -> list[Path]:
    if name.endswith("*"):
        pkg = name[:-1].rstrip(".")
        return sorted((PACKAGE_DIR.joinpath(*pkg.split(".")) if pkg else PACKAGE_DIR).glob("*.py"))
    p = _module_file(name)
    return [p] if p is not None else []


def notebook_imports(notebook: Path) -> set[str]:
    """`classit_utils` modules a notebook's code cells import (IPython magics and shell lines skipped)."""
    import nbformat
    out: set[str] = set()
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "code":
            code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            out |= _imports(ast.parse(code), "")
    return out


def closure(modules: set[str]) -> list[Path]:
    """Every `classit_utils` file that importing `modules` (dotted, relative to the package) reaches, the
    package `__init__` included."""
    todo = [p for n in modules for p in _expand(n)] + [PACKAGE_DIR / "__init__.py"]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += [p for n in _module_imports(path) for p in _expand(n)]
        for parent in path.relative_to(PACKAGE_DIR).parents:      # importing a.b runs a/__init__.py
            init = PACKAGE_DIR / parent / "__init__.py"
            if init.is_file() and init not in seen:
                todo.append(init)
    return sorted(seen)




def code_closure(notebook: Path) -> list[Path]:
    """Every `classit_utils` file the notebook's imports reach."""
    return closure(notebook_imports(notebook))


def code_hashes(modules: set[str]) -> dict[str, str]:
    """{repository-relative file: sha256} over the closure of `modules`."""
    return {p.relative_to(REPO_ROOT).as_posix(): sha(p.read_bytes()) for p in closure(modules)}


def library_versions() -> dict[str, str]:
    return {k: v for k, v in versions(KEY_LIBS).items() if k != "python"}
