// The web chat: conversations in the sidebar, answers streamed over server-sent events from POST /api/chat/….
// Model text is shown as plain text while it streams and replaced by the server's sanitised HTML when it is final.

const $ = (id) => document.getElementById(id);
const state = { me: null, conversationId: null, busy: false };

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    ...options,
  });
  if (response.status === 401) { location.href = '/signin?ReturnUrl=' + encodeURIComponent(location.pathname); throw new Error('signed out'); }
  return response;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function conversationFromHash() {
  const match = /^#\/c\/([0-9a-f-]{36})$/i.exec(location.hash);
  return match ? match[1] : null;
}

async function loadMe() {
  state.me = await (await api('/api/chat/me')).json();
  const select = $('model');
  select.replaceChildren();
  if (state.me.extractive || state.me.models.length === 0) {
    select.append(new Option('Knowledge base (no model)', ''));
    select.disabled = true;
  } else {
    for (const model of state.me.models) select.append(new Option(model.name, model.id));
  }
}

let listRequests = 0;

async function loadConversations() {
  // Only the newest request may paint the list: an older response arriving late would show a stale list.
  const request = ++listRequests;
  const list = await (await api('/api/chat/conversations')).json();
  if (request !== listRequests) return;
  const nav = $('conversations');
  nav.replaceChildren();
  for (const c of list) {
    const link = element('a', c.id === state.conversationId ? 'active' : '', c.title || 'Untitled');
    link.href = '#/c/' + c.id;
    link.title = c.title || '';
    nav.append(link);
  }
}

function clearMessages() {
  $('messages').replaceChildren();
}

function showEmpty() {
  const empty = element('div', 'empty');
  empty.id = 'empty';
  empty.append(element('h2', '', 'Ask about your company'));
  empty.append(element('p', '', 'Policies, how-tos, projects — I answer from your company\'s documents and cite where each answer comes from.'));
  const hint = element('p', 'muted');
  hint.append('Type ', element('strong', '', 'help'), ' to see the commands.');
  empty.append(hint);
  $('messages').append(empty);
}

function scrollDown() {
  const messages = $('messages');
  messages.scrollTop = messages.scrollHeight;
}

function addUserMessage(text) {
  $('empty')?.remove();
  const msg = element('div', 'msg user');
  msg.append(element('div', 'body', text));
  $('messages').append(msg);
  scrollDown();
}

/** Turns [n] markers in the rendered answer into links to its numbered sources. */
function linkCitations(body, messageKey, citations) {
  const numbers = new Set(citations.map((c) => c.number));
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const node of nodes) {
    if (!/\[\d{1,2}\]/.test(node.nodeValue) || node.parentElement.closest('code, pre')) continue;
    const fragment = document.createDocumentFragment();
    for (const part of node.nodeValue.split(/(\[\d{1,2}\])/)) {
      const m = /^\[(\d{1,2})\]$/.exec(part);
      if (m && numbers.has(Number(m[1]))) {
        const a = element('a', 'cite', m[1]);
        a.href = `#src-${messageKey}-${m[1]}`;
        a.title = citations.find((c) => c.number === Number(m[1])).title;
        fragment.append(a);
      } else {
        fragment.append(part);
      }
    }
    node.replaceWith(fragment);
  }
}

function renderCitations(citations, messageKey) {
  const list = element('ol', 'citations');
  list.setAttribute('aria-label', 'Sources');
  for (const c of citations) {
    const item = element('li');
    item.id = `src-${messageKey}-${c.number}`;
    item.append(element('span', 'n', String(c.number)));
    const main = element('span');
    const title = c.url ? element('a', '', c.title) : element('strong', '', c.title);
    if (c.url) { title.href = c.url; title.target = '_blank'; title.rel = 'noopener noreferrer'; }
    main.append(title);
    if (c.page) main.append(`, page ${c.page}`);
    if (c.snippet) main.append(element('span', 'snippet', c.snippet));
    item.append(main);
    list.append(item);
  }
  return list;
}

const THUMB_UP = 'M7 10v11H3V10h4zm2 11h8.2a2 2 0 0 0 2-1.6l1.3-7A2 2 0 0 0 18.5 10H14l.7-3.6a1.5 1.5 0 0 0-2.7-1.2L9 10v11z';
const THUMB_DOWN = 'M17 14V3h4v11h-4zm-2-11H6.8a2 2 0 0 0-2 1.6l-1.3 7A2 2 0 0 0 5.5 14H10l-.7 3.6a1.5 1.5 0 0 0 2.7 1.2L15 14V3z';

/** A small button holding one SVG path (no icon font, no emoji: they look the same everywhere). */
function iconButton(path) {
  const button = element('button', 'icon');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', 'true');
  const shape = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  shape.setAttribute('d', path);
  shape.setAttribute('fill', 'currentColor');
  svg.append(shape);
  button.append(svg);
  return button;
}

function feedbackButtons(messageId, current) {
  const meta = element('div', 'meta');
  const up = iconButton(THUMB_UP);
  const down = iconButton(THUMB_DOWN);
  up.title = 'Helpful'; down.title = 'Not helpful';
  up.setAttribute('aria-label', 'Helpful'); down.setAttribute('aria-label', 'Not helpful');
  const mark = (rating) => {
    up.setAttribute('aria-pressed', String(rating === 1));
    down.setAttribute('aria-pressed', String(rating === -1));
  };
  mark(current);
  for (const [button, rating] of [[up, 1], [down, -1]]) {
    button.addEventListener('click', async () => {
      mark(rating);
      await api(`/api/chat/conversations/${state.conversationId}/messages/${messageId}/feedback`, {
        method: 'POST', body: JSON.stringify({ rating }),
      });
    });
  }
  meta.append(up, down);
  return meta;
}

/** Fills an assistant message with its final form. */
function finishAssistant(msg, view) {
  msg.classList.toggle('notice', view.kind === 'notice');
  const body = msg.querySelector('.body');
  body.classList.remove('streaming');
  body.innerHTML = view.html; // sanitised on the server: no raw HTML, only safe link targets
  msg.querySelector('.status')?.remove();
  for (const pre of body.querySelectorAll('pre')) {
    const copy = element('button', 'copy', 'Copy');
    copy.type = 'button';
    copy.addEventListener('click', async () => {
      await navigator.clipboard?.writeText(pre.querySelector('code')?.textContent ?? pre.textContent);
      copy.textContent = 'Copied';
      setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
    });
    pre.append(copy);
  }
  const key = view.messageId ?? Math.random().toString(36).slice(2);
  if (view.citations?.length) {
    linkCitations(body, key, view.citations);
    msg.append(renderCitations(view.citations, key));
  }
  if (view.actions?.length) {
    const actions = element('div', 'actions');
    for (const action of view.actions) {
      const button = element('button', '', action.label);
      button.addEventListener('click', () => send(action.command));
      actions.append(button);
    }
    msg.append(actions);
  }
  if (view.kind === 'answer' && view.messageId) {
    const meta = feedbackButtons(view.messageId, view.feedback ?? 0);
    if (view.model) meta.append(element('span', '', view.model === 'extractive' ? 'Quoted from the knowledge base' : view.model));
    msg.append(meta);
  }
}

function addAssistantPlaceholder() {
  const msg = element('div', 'msg assistant');
  msg.append(element('div', 'status', 'Thinking…'));
  msg.append(element('div', 'body streaming'));
  $('messages').append(msg);
  scrollDown();
  return msg;
}

/**
 * A quick preview of Markdown while it streams: everything is escaped first, then only bold, italics and inline
 * code are marked up. The server's full, sanitised rendering replaces it when the answer is final.
 */
function previewMarkdown(text) {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return escaped
    .replace(/`([^`\n]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*\n]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*])\*([^*\n]+)\*/g, '$1<em>$2</em>');
}

async function* serverSentEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const raw = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message'; let data = '';
      for (const line of raw.split('\n')) {
        if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      yield { name, data: data ? JSON.parse(data) : null };
    }
  }
}

async function send(text) {
  if (state.busy || !text.trim()) return;
  if (!state.conversationId) startNewChat();
  state.busy = true;
  $('send').disabled = true;
  if ($('title').textContent === 'New chat') $('title').textContent = text.slice(0, 80);
  addUserMessage(text);
  const msg = addAssistantPlaceholder();
  const body = msg.querySelector('.body');
  let streamed = '';
  try {
    const response = await api(`/api/chat/conversations/${state.conversationId}/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify({ clientMessageId: crypto.randomUUID(), text, model: $('model').value || null }),
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail || `The message was not accepted (${response.status}).`);
    }
    for await (const event of serverSentEvents(response)) {
      if (event.name === 'status') {
        msg.querySelector('.status') && (msg.querySelector('.status').textContent = event.data.text);
      } else if (event.name === 'delta') {
        msg.querySelector('.status')?.remove();
        streamed += event.data.text;
        body.innerHTML = previewMarkdown(streamed);
        scrollDown();
      } else if (event.name === 'final') {
        finishAssistant(msg, event.data);
      } else if (event.name === 'error') {
        msg.classList.add('error');
        msg.querySelector('.status')?.remove();
        body.textContent = event.data.message;
      } else if (event.name === 'duplicate') {
        await openConversation(state.conversationId);
      }
    }
  } catch (error) {
    msg.classList.add('error');
    msg.querySelector('.status')?.remove();
    body.textContent = error.message === 'signed out' ? '' : 'Could not send: ' + error.message;
  } finally {
    state.busy = false;
    $('send').disabled = false;
    $('delete-chat').hidden = false;
    scrollDown();
    loadConversations();
  }
}

async function openConversation(id) {
  state.conversationId = id;
  clearMessages();
  const response = await api(`/api/chat/conversations/${id}/messages`);
  $('delete-chat').hidden = response.status === 404;
  if (response.status === 404) { showEmpty(); $('title').textContent = 'New chat'; return; }
  const messages = await response.json();
  let generation = 0;
  for (const m of messages) {
    if (m.generation !== generation) {
      generation = m.generation;
      $('messages').append(element('div', 'divider', 'New conversation started — earlier messages are no longer used'));
    }
    if (m.role === 'user') {
      addUserMessage(m.text);
    } else {
      const msg = element('div', 'msg assistant');
      msg.append(element('div', 'body'));
      $('messages').append(msg);
      finishAssistant(msg, { messageId: m.id, kind: 'answer', html: m.html, citations: m.citations, actions: [], model: m.model, feedback: m.feedback });
    }
  }
  const firstUser = messages.find((m) => m.role === 'user');
  $('title').textContent = firstUser ? firstUser.text.slice(0, 80) : 'New chat';
  scrollDown();
  loadConversations();
}

async function deleteConversation() {
  if (!state.conversationId || !confirm('Delete this conversation? This cannot be undone.')) return;
  await api(`/api/chat/conversations/${state.conversationId}`, { method: 'DELETE' });
  startNewChat();
}

function startNewChat() {
  $('delete-chat').hidden = true;
  state.conversationId = crypto.randomUUID();
  clearMessages();
  showEmpty();
  $('title').textContent = 'New chat';
  history.replaceState(null, '', '#/c/' + state.conversationId);
  loadConversations();
  $('input').focus();
}

// A file attached here becomes a document of this conversation; its status is polled until it is indexed or failed.
async function attach(file) {
  if (!state.conversationId) startNewChat();
  $('empty')?.remove();
  const note = element('div', 'msg notice upload', `Adding “${file.name}” to this conversation…`);
  $('messages').append(note);
  scrollDown();
  const form = new FormData();
  form.append('file', file);
  try {
    const response = await fetch(`/api/chat/conversations/${state.conversationId}/documents`, {
      method: 'POST', credentials: 'same-origin', headers: { 'X-ChatBot-Upload': '1', Accept: 'application/json' }, body: form,
    });
    let view = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(view.detail || `The file was not accepted (${response.status}).`);
    while (view.status === 'pending' || view.status === 'processing') {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      view = await (await api(`/api/chat/documents/${view.documentId}`)).json();
    }
    if (view.status === 'ready') {
      note.textContent = `“${view.title}” is ready (${view.chunkCount} passage${view.chunkCount === 1 ? '' : 's'}). Ask me about it.`;
      note.classList.add('ready');
    } else {
      throw new Error(view.failureReason || 'It could not be indexed.');
    }
  } catch (error) {
    note.textContent = `“${file.name}” could not be added: ${error.message}`;
    note.classList.add('error');
  }
  $('delete-chat').hidden = false;
  loadConversations();
}

function wireComposer() {
  $('attach').addEventListener('click', () => $('file').click());
  $('file').addEventListener('change', () => {
    const file = $('file').files[0];
    $('file').value = '';
    if (file) attach(file);
  });
  const input = $('input');
  const submit = () => { const text = input.value; input.value = ''; input.style.height = ''; send(text); };
  $('composer').addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  input.addEventListener('input', () => { input.style.height = 'auto'; input.style.height = input.scrollHeight + 'px'; });
  $('new-chat').addEventListener('click', () => startNewChat());
  $('delete-chat').addEventListener('click', deleteConversation);
  window.addEventListener('hashchange', () => {
    const id = conversationFromHash();
    if (id && id !== state.conversationId) openConversation(id);
  });
}

async function main() {
  wireComposer();
  await loadMe();
  const id = conversationFromHash();
  if (id) await openConversation(id); else startNewChat();
}

main();
