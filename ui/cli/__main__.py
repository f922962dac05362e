from montage_ai.ui.cli.main import run

run()
