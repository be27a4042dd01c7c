"""The studies behind the presets: runs as data (research/experiments/*.toml), the runner, the records, the
reports (docs/ablations.md, REPORT.md) and the presets' cards.

Run from the repository root, as modules: `python -m research.ablations report`, `python -m research.train_zoo
cards`, ... (docs/architecture.md). Not shipped in the wheel; nothing in rbvae_tf/, export/ or cli.py imports it.
"""
