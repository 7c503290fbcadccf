from digsync.cli import main

raise SystemExit(main())
