"""How the bot looks in a chat: the words around each service result, the buttons and their
wire format.

- ``doses.py``: reminders, notices, the missed-dose answer, /today, /plan, the help button;
- ``admin.py``, ``caregivers.py``, ``checkins.py``, ``pump.py``, ``report.py``, ``supply.py``:
  each feature's words;
- ``callbacks.py``: every button's callback data (typed, packed, size-checked);
- ``commands.py``: the command table behind the menu and /help;
- ``keyboards.py``: building inline keyboards.

Views read the content pack and the domain; nothing here touches storage or Telegram's API.
"""
