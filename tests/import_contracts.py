"""An import-linter contract type of this project's: "these packages import only the standard
library and themselves".

import-linter's own `forbidden` contract names what may not be imported; the domain's rule is
the other way round (nothing but the standard library), so that a new dependency, or one that
arrives with another package, is refused without anyone having to list it. pyproject.toml
registers this type ([tool.importlinter] contract_types); tests/test_architecture.py runs
import-linter with this folder on the path (by hand: `PYTHONPATH=tests lint-imports`).
"""

from __future__ import annotations

import sys

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class StandardLibraryOnly(Contract):
    """Modules of `source_modules` import only the standard library and their own package."""

    type_name = "standard_library_only"

    source_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        illegal = []
        for source in self.source_modules:  # type: ignore[attr-defined]  # a field, set at init
            package = graph.find_descendants(source) | {source}
            for importer in sorted(package):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    top = imported.split(".")[0]
                    if imported in package or top in sys.stdlib_module_names:
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    lines = sorted({d["line_number"] for d in details})
                    illegal.append((importer, imported, lines))
        return ContractCheck(kept=not illegal, metadata={"illegal": illegal})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, imported, lines in check.metadata["illegal"]:
            where = ", ".join(str(line) for line in lines)
            output.print_error(
                f"{importer} imports {imported} (l.{where}): only the standard library and "
                "its own package are allowed",
                bold=False,
            )
            output.new_line()
