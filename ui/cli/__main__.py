from montage_ai.ui.cli.main import main

raise SystemExit(main())
