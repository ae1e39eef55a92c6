from html import escape


def render_label(sku, title):
    return "<div class='label'><h2>%s</h2><code>%s</code></div>" % (title, sku)


def render_label_safe(sku, title):
    return "<div class='label'><h2>%s</h2><code>%s</code></div>" % (escape(title), escape(sku))
