"""PDF protocols, roll-call sheets and attendance, rendered from frozen read models.

The renderer is pure: `protocols.model` holds what it takes (built by
`voting.services.records` from the database, or by hand); it touches no database and no web.
`protocols.render.render(kind, model)` returns the PDF's bytes;
`protocols.worker.render_in_worker` does the same in a separate process and writes the file.
This package's own module imports nothing, so that the read models (standard library only)
can be imported without loading ReportLab.
"""
