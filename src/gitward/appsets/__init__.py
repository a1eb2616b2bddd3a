"""ApplicationSets: generators that stamp out Applications (Argo CD's semantics).

``parse`` reads the document, ``generators`` make parameter sets (list, clusters, Git
directories and files, matrix, merge), ``templates`` and ``gotemplate`` render the
Application template per set, ``expand`` turns the result into owned AppSpecs for
``serve``. See docs/appsets.md.
"""
