"""The bot's message catalog in Spanish and English (per User.language).

One entry per message id; `text(lang, key, **values)` formats it. Unknown languages fall
back to Spanish, the product's first language. Keeping the catalog in one module makes a
missing translation a test failure (tests/bot/test_texts.py) rather than a runtime surprise.
"""

from __future__ import annotations

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"

CATALOG: dict[str, dict[str, str]] = {
    # Linking (B1)
    "link_hint": {
        "es": "Este chat no está vinculado a Centralita CRM.\n"
        "Genera un código en tu perfil de la web (o pide a un administrador "
        "`centralita telegram-link USUARIO`) y envía aquí: /start CÓDIGO",
        "en": "This chat is not linked to Centralita CRM.\n"
        "Get a code on your profile page (or ask an administrator for "
        "`centralita telegram-link USER`) and send here: /start CODE",
    },
    "link_done": {
        "es": "Hola, {name}. Este chat está vinculado a tu usuario de Centralita. "
        "Aquí recibirás las llamadas, los recordatorios y el resumen del día.\n"
        "Comandos: /tasks /task /find /note /call /unlink",
        "en": "Hello, {name}. This chat is now linked to your Centralita user. "
        "Calls, reminders and the daily digest will arrive here.\n"
        "Commands: /tasks /task /find /note /call /unlink",
    },
    "link_already": {
        "es": "Este chat ya está vinculado a {name}. Para cambiarlo, usa /unlink primero.",
        "en": "This chat is already linked to {name}. To change it, use /unlink first.",
    },
    "link_bad_code": {
        "es": "Ese código no es válido o ha caducado (duran 10 minutos y sirven una vez). "
        "Genera uno nuevo en tu perfil.",
        "en": "That code is wrong or has expired (codes last 10 minutes and work once). "
        "Get a new one on your profile page.",
    },
    "link_too_many": {
        "es": "Demasiados códigos incorrectos. Espera {minutes} min y vuelve a intentarlo.",
        "en": "Too many wrong codes. Wait {minutes} min and try again.",
    },
    "unlinked": {
        "es": "Chat desvinculado. Ya no recibirás datos del CRM aquí.",
        "en": "Chat unlinked. You will no longer receive CRM data here.",
    },
    # Call notifications (B2)
    "call_in": {"es": "📞 Llamada entrante", "en": "📞 Incoming call"},
    "call_out": {"es": "📞 Llamada saliente", "en": "📞 Outgoing call"},
    "call_unknown": {"es": "Número desconocido", "en": "Unknown number"},
    "call_deals": {"es": "💼 Negocios abiertos:", "en": "💼 Open deals:"},
    "call_last_note": {"es": "📝 Última nota: {text}", "en": "📝 Last note: {text}"},
    "call_last_call": {
        "es": "🕘 Última llamada: {at} ({result})",
        "en": "🕘 Last call: {at} ({result})",
    },
    "state_ringing": {"es": "🔔 Sonando…", "en": "🔔 Ringing…"},
    "state_answered": {"es": "🟢 En curso", "en": "🟢 In progress"},
    "state_ended": {
        "es": "✅ Terminada, duración {duration}",
        "en": "✅ Ended, duration {duration}",
    },
    "state_missed": {"es": "❌ Perdida", "en": "❌ Missed"},
    "state_unanswered": {"es": "📵 No contestada", "en": "📵 Not answered"},
    "state_elsewhere": {"es": "↪️ Atendida por otro agente", "en": "↪️ Answered by another agent"},
    "missed_alert": {
        "es": "❌ Llamada perdida de {who} ({number})",
        "en": "❌ Missed call from {who} ({number})",
    },
    "result_answered": {"es": "atendida", "en": "answered"},
    "result_missed": {"es": "perdida", "en": "missed"},
    "result_busy": {"es": "ocupado", "en": "busy"},
    "result_failed": {"es": "fallida", "en": "failed"},
    "result_no_answer": {"es": "sin respuesta", "en": "no answer"},
    "btn_create_lead": {"es": "➕ Crear lead", "en": "➕ Create lead"},
    "btn_add_note": {"es": "📝 Nota", "en": "📝 Note"},
    "btn_create_task": {"es": "📅 Tarea", "en": "📅 Task"},
    "btn_call_back": {"es": "📞 Devolver llamada", "en": "📞 Call back"},
    "lead_created": {"es": "Lead creado: {name}", "en": "Lead created: {name}"},
    "lead_exists": {"es": "Ya existe: {name}", "en": "Already exists: {name}"},
    "note_prompt": {
        "es": "Responde a este mensaje con el texto de la nota para {who}.",
        "en": "Reply to this message with the note for {who}.",
    },
    "note_needs_contact": {
        "es": "Esta llamada no tiene cliente ni lead. Crea el lead primero.",
        "en": "This call has no client or lead. Create the lead first.",
    },
    "calling": {
        "es": "Llamando a {number}… primero sonará tu extensión.",
        "en": "Calling {number}… your extension rings first.",
    },
    "call_failed": {"es": "No se pudo llamar: {reason}", "en": "Could not call: {reason}"},
    # Notes (B3)
    "note_added": {"es": "📝 Nota guardada en {who}.", "en": "📝 Note saved on {who}."},
    "note_usage": {
        "es": "Uso: /note CLIENTE-O-TELÉFONO texto de la nota",
        "en": "Usage: /note CLIENT-OR-PHONE note text",
    },
    "note_ambiguous": {
        "es": "Hay varios resultados para «{query}»: {names}. Sé más preciso.",
        "en": "Several matches for “{query}”: {names}. Be more specific.",
    },
    "not_found": {"es": "No encuentro nada para «{query}».", "en": "Nothing found for “{query}”."},
    # Tasks (B3)
    "tasks_none": {
        "es": "No tienes tareas para hoy ni atrasadas. 🎉",
        "en": "No tasks for today and nothing overdue. 🎉",
    },
    "tasks_header": {"es": "📋 Tus tareas ({count}):", "en": "📋 Your tasks ({count}):"},
    "task_overdue": {"es": "⚠️ atrasada", "en": "⚠️ overdue"},
    "btn_done": {"es": "✅ Hecha", "en": "✅ Done"},
    "btn_plus_hour": {"es": "⏩ +1 h", "en": "⏩ +1 h"},
    "btn_tomorrow": {"es": "📆 Mañana", "en": "📆 Tomorrow"},
    "task_done": {"es": "✅ Hecha: {title}", "en": "✅ Done: {title}"},
    "task_moved": {"es": "📆 {title} → {due}", "en": "📆 {title} → {due}"},
    "task_ask_title": {
        "es": "Nueva tarea. ¿Título? (/cancel para salir)",
        "en": "New task. Title? (/cancel to stop)",
    },
    "task_ask_due": {
        "es": "¿Cuándo? Por ejemplo «mañana 10:00», «viernes 15:30», «en 2 horas».",
        "en": "When? For example “tomorrow 10:00”, “friday 15:30”, “in 2 hours”.",
    },
    "task_bad_due": {
        "es": "No entiendo «{text}» como fecha. Prueba «mañana 10:00».",
        "en": "I can't read “{text}” as a date. Try “tomorrow 10:00”.",
    },
    "task_past_due": {
        "es": "Esa hora ya ha pasado. ¿Cuándo?",
        "en": "That time is in the past. When?",
    },
    "task_ask_client": {
        "es": "¿Para qué cliente o lead? Escribe un nombre o teléfono, o /skip.",
        "en": "For which client or lead? Type a name or phone, or /skip.",
    },
    "task_created": {
        "es": "📅 Tarea creada: {title}, {due}{who}",
        "en": "📅 Task created: {title}, {due}{who}",
    },
    "cancelled": {"es": "Cancelado.", "en": "Cancelled."},
    # Search (B3)
    "find_usage": {
        "es": "Uso: /find nombre, empresa o teléfono",
        "en": "Usage: /find name, company or phone",
    },
    "find_header": {"es": "🔎 Resultados para «{query}»:", "en": "🔎 Results for “{query}”:"},
    "kind_client": {"es": "cliente", "en": "client"},
    "kind_lead": {"es": "lead", "en": "lead"},
    "call_usage": {
        "es": "Uso: /call NÚMERO o nombre del cliente",
        "en": "Usage: /call NUMBER or client name",
    },
    "no_extension": {"es": "Tu usuario no tiene extensión.", "en": "Your user has no extension."},
    # Reminders and digest (B4)
    "reminder": {
        "es": "⏰ En {minutes} min: {title} ({due}){who}",
        "en": "⏰ In {minutes} min: {title} ({due}){who}",
    },
    "digest_header": {
        "es": "☀️ Buenos días, {name}. Tu resumen:",
        "en": "☀️ Good morning, {name}. Your digest:",
    },
    "digest_tasks": {
        "es": "📋 Tareas de hoy: {current}, atrasadas: {overdue}",
        "en": "📋 Tasks today: {current}, overdue: {overdue}",
    },
    "digest_week_tasks": {
        "es": "✅ Tareas de la semana hechas: {done} de {total}",
        "en": "✅ Tasks done this week: {done} of {total}",
    },
    "digest_leads": {
        "es": "🧲 Leads: {handled} tuyos abiertos, {unhandled} sin asignar, "
        "{new_week} nuevos esta semana",
        "en": "🧲 Leads: {handled} yours open, {unhandled} unassigned, {new_week} new this week",
    },
    "digest_clients": {
        "es": "👥 Clientes: {total}, nuevos esta semana: {new_week}",
        "en": "👥 Clients: {total}, new this week: {new_week}",
    },
    "digest_calls": {
        "es": "📞 Llamadas esta semana: {calls_in} entrantes, {calls_out} salientes",
        "en": "📞 Calls this week: {calls_in} inbound, {calls_out} outbound",
    },
    # Errors
    "error_denied": {"es": "No tienes permiso para eso.", "en": "You are not allowed to do that."},
    "error_not_found": {"es": "Ya no existe.", "en": "It no longer exists."},
    "error_invalid": {"es": "No se pudo: {reason}", "en": "Could not do it: {reason}"},
    "error_generic": {
        "es": "Algo ha fallado. Inténtalo de nuevo.",
        "en": "Something went wrong. Try again.",
    },
}


def language_of(value: str | None) -> str:
    """A supported language from a user's setting or Telegram's language_code ("en-US")."""
    code = (value or "").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def text(lang: str, key: str, **values: object) -> str:
    entry = CATALOG[key]
    template = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return template.format(**values) if values else template
