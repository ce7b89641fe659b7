"""The OCPP central system: one websocket server for every charger of every place."""
