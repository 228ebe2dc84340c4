"""Discord adapters: slash commands, context menus, views and modals. Thin by design."""
