"""What every process that opens a home loads first: the catalog migrations of every domain.

Storage knows no domain (``scanstation.storage.migrations``); each module below registers its own
numbered migrations when it is imported. This is the one list of them: the shells (command line,
window, network service) import this module before they open a home, and a catalog refuses to
migrate until it has run. A new domain table means a migration beside its code and a line here.
"""

from __future__ import annotations

import scanstation.coversheet
import scanstation.custody
import scanstation.custody.paper
import scanstation.dossier_list
import scanstation.ocr.layout
import scanstation.ocr.queue
import scanstation.page_count
import scanstation.recovery
import scanstation.search
import scanstation.transfer
import scanstation.transfer.uploads
from scanstation.storage import migrations

#: The modules that own catalog tables besides storage's own (scanstation.storage.catalog).
DOMAINS = (
    scanstation.search,
    scanstation.transfer,
    scanstation.custody,
    scanstation.ocr.layout,
    scanstation.dossier_list,
    scanstation.page_count,
    scanstation.coversheet,
    scanstation.custody.paper,
    scanstation.ocr.queue,
    scanstation.transfer.uploads,
    scanstation.recovery,
)

migrations.complete()

__all__ = ["DOMAINS"]
