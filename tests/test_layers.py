"""The package is layered: each module imports only modules below it, so there is no circle."""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "ram"


def package_imports():
    """`{module: {ram modules it imports, at any depth of its code}}` for every module of ram/."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ram"):
                if node.module == "ram":
                    imported |= {f"ram.{alias.name}" for alias in node.names}
                else:
                    imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names if alias.name.startswith("ram.")}
        graph[name] = imported - {name}
    return graph


def test_the_import_graph_of_ram_has_no_circle():
    graph = package_imports()
    done, path = set(), []

    def visit(module):
        if module in path:
            raise AssertionError("import circle: " + " -> ".join(path[path.index(module):] + [module]))
        if module in done or module not in graph:
            return
        path.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_the_bottom_layer_loads_no_tensorflow_and_imports_nothing_above_it():
    """The parent process of an experiment, `ram-plot` and the checks before a run starts use only
    these modules, and stay light: none imports TensorFlow or Keras when it is imported."""
    graph = package_imports()
    bottom = {"ram", "ram.config", "ram.storage", "ram.runs", "ram.data", "ram.quiet",
              "ram.foveation"}
    for module in bottom - {"ram"}:
        assert graph[module] <= bottom, (module, graph[module] - bottom)
        tree = ast.parse((PACKAGE / f"{module.split('.')[1]}.py").read_text())
        top_level = {alias.name.split(".")[0] for node in tree.body
                     if isinstance(node, (ast.Import, ast.ImportFrom))
                     for alias in (node.names if isinstance(node, ast.Import)
                                   else [ast.alias(node.module or "")])}
        assert not top_level & {"tensorflow", "keras"}, module
