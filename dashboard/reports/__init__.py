"""Reports of stored runs: one run's report as HTML, Markdown, PDF or JSON, and the
specification's target tables with what was measured (`pincex report`, the Reports page).

    report = build.build_report(store, "latest")
    html.render_html(report); markdown.render_markdown(report); pdf.render_pdf(report)
    document.report_json(report); spec_tables.spec_tables(store)

Modules are imported on use: `pincex --help` must not load pandas or Plotly.
"""
