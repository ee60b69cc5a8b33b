/*
 * verifier.js - the standalone verifier (SPEC 10, docs/PROTOCOL.md 10.4):
 * a static page that customs, an inspection body or a consumer
 * association hosts on its own origin, so that a lot's verdict rests on
 * keys the checked server does not serve.
 *
 * Opened as index.html#01/{gtin}/10/{lot}[/21/{serial}] (?server=URL to
 * read from another server), it reads config.json from its own origin
 * (the pinned root public key, log vkey, C2SP tlog-policy text and default
 * server; `make verifier` writes it), fetches the lot's bundle
 * cross-origin, and judges it with verify.js (the same bundle_verify()
 * port and fold the consumer pages run; nothing is forked here):
 * signatures, inclusion proofs, key entries back to the pinned root, the
 * witness quorum of the pinned policy (C2SP tlog-cosignature
 * cosignature/v1, as libtrace/cosign.c; verify.js's witnessQuorum, shared
 * with the consumer page), and the memory of the largest
 * checkpoint this browser verified (a fork or a rollback fails, visibly),
 * and that the bundle is complete as of its checkpoint (the lot index,
 * SPEC 11: a hidden recall or a truncated chain fails).
 * The recall, inspection and customs status shown are the fold's, never
 * server text, and so are each listed event's flags (li[data-flags]:
 * compromised, pending, withdrawn, round1; SPEC 8, SPEC 9).  The verdict
 * is #verdict[data-state] = verified | failed | unavailable.  Text is
 * written with textContent only.
 */
(function () {
	'use strict';

	var T = window.TraceVerify;
	var MAX_AGE = 3600;     /* seconds: SPEC 9's default checkpoint age */

	function $(id) {
		return document.getElementById(id);
	}

	function text(id, value, cls) {
		var e = $(id);

		e.textContent = value;
		if (cls !== undefined)
			e.className = cls;
	}

	function Stop(state, zh, en, detail) {
		this.state = state;
		this.zh = zh;
		this.en = en;
		this.detail = detail || '';
	}

	function stop(state, zh, en, detail) {
		throw new Stop(state, zh, en, detail);
	}

	function verdict(state, zh, en, detail) {
		var v = $('verdict'), title = $('verdict-title'), span;

		v.setAttribute('data-state', state);
		v.querySelector('.mark').textContent = state === 'verified' ? '\u2714' :
		    state === 'failed' ? '\u2716' : '?';
		title.textContent = zh + ' ';
		span = title.appendChild(document.createElement('span'));
		span.className = 'en';
		span.textContent = en;
		text('verdict-detail', detail || '');
	}

	if (!T) {
		verdict('unavailable', '此浏览器无法验证', 'This browser cannot verify',
		    'WebCrypto / BigInt');
		return;
	}

	/* ---- the lot in the fragment --------------------------------------- */

	/* GS1 AI 10 and 21: up to 20 characters of GS1 set 82. */
	var ATTR = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$/;

	/* link_encode() of the server: unreserved bytes as they are. */
	function linkEncode(s) {
		return Array.prototype.map.call(new TextEncoder().encode(s), function (b) {
			var c = String.fromCharCode(b);

			return /[A-Za-z0-9._~-]/.test(c) ? c : '%' + (b < 16 ? '0' : '') +
			    b.toString(16).toUpperCase();
		}).join('');
	}

	function route(hash) {
		var m = /^#?\/?01\/([0-9]{8}|[0-9]{12,14})\/10\/([^/]+)(?:\/21\/([^/]+))?$/.exec(hash),
		    gtin, lot, serial = '';

		if (!m)
			return null;
		try {
			lot = decodeURIComponent(m[2]);
			if (m[3] !== undefined)
				serial = decodeURIComponent(m[3]);
		} catch (e) {
			return null;
		}
		if (!ATTR.test(lot) || (serial !== '' && !ATTR.test(serial)))
			return null;
		gtin = ('00000000000000' + m[1]).slice(-14);
		return { gtin: gtin, lot: lot, serial: serial,
		    chain: '01/' + gtin + '/10/' + lot,
		    path: '/api/v1/bundles/01/' + gtin + '/10/' + linkEncode(lot) };
	}

	function serverOf(config) {
		var q = new URLSearchParams(window.location.search).get('server'), u;

		u = q !== null && q !== '' ? q : config.server;
		if (typeof u !== 'string' || !/^https?:\/\/[^\s]+$/.test(u))
			stop('unavailable', '服务器地址无效', 'No valid server URL', String(u));
		return u.replace(/\/+$/, '');
	}

	function get(url, as) {
		return fetch(url, { cache: 'no-store', credentials: 'omit',
		    referrerPolicy: 'no-referrer', headers: { Accept: 'application/json' } })
		    .then(function (r) {
			if (r.status === 404)
				stop('unavailable', '服务器上没有此批次的记录', 'The server has no record of this lot',
				    url + ': 404');
			if (!r.ok)
				stop('unavailable', '服务器暂时无法回答', 'The server cannot answer now',
				    url + ': ' + r.status);
			return as === 'text' ? r.text() : r.json();
		}, function (e) {
			stop('unavailable', '无法连接服务器', 'The server cannot be reached',
			    url + ': ' + (e && e.message ? e.message : String(e)));
		});
	}

	/* ---- C2SP tlog-policy and tlog-cosignature -------------------------- */

	/* The quorum of the pinned policy on note (verify.js witnessQuorum,
	 * which the consumer page runs too): {names, got, newest} or a Stop. */
	function quorum(note, policyText, vkey) {
		return T.witnessQuorum(note, policyText, vkey).then(function (q) {
			if (q.ok)
				return q;
			if (q.code === 'bad_policy')
				stop('failed', '见证策略无效', 'The pinned witness policy is malformed', q.detail);
			if (q.code === 'wrong_log')
				stop('failed', '见证策略无效', 'The pinned policy does not list the pinned log key');
			if (q.code === 'quorum')
				stop('failed', '见证法定数不足', 'The witness quorum is not met', q.detail);
			stop('failed', '见证签名无效', q.message, q.detail);
		});
	}

	/* ---- the statuses, from the fold ----------------------------------- */

	function showStatus(report, lot) {
		var f = report.fold, s = T.serialStatus(f, lot.serial), open = s.recall !== -1,
		    partial = s.other !== -1, list = $('events');

		text('status-recall', open ? '已召回 · Recalled' :
		    partial ? (lot.serial !== '' ? '本批次其他产品已召回 · Other units of this lot are recalled' :
		    '本批次部分已召回 · Part of this lot is recalled') :
		    s.closed !== -1 ? '召回已结束 · Recall closed' : '未召回 · Not recalled',
		    open || partial ? 'bad' : 'ok');
		$('status-recall').setAttribute('data-status', open ? 'open' :
		    partial ? 'open_other' : s.closed !== -1 ? 'closed' : 'none');
		text('status-inspection', f.inspection === 'pass' ? '合格 · Passed' :
		    f.inspection === 'fail' ? '不合格 · Failed' : '未检验 · Not inspected',
		    f.inspection === 'fail' ? 'bad' : f.inspection === 'pass' ? 'ok' : '');
		$('status-inspection').setAttribute('data-status', f.inspection);
		text('status-customs', f.customs === 'released' ? '已放行 · Released' :
		    f.customs === 'declared' ? '已申报 · Declared' : '无海关记录 · No customs record',
		    f.customs === 'released' ? 'ok' : '');
		$('status-customs').setAttribute('data-status', f.customs);
		list.textContent = '';
		report.events.forEach(function (e) {
			var li = list.appendChild(document.createElement('li')),
			    s = e.foldIndex >= 0 ? f.statements[e.foldIndex] : null,
			    marks = s ? flags(f, s) : [];

			li.appendChild(document.createElement('span')).textContent = e.ev.type +
			    ' \u00b7 ' + when(e.ev.time) + ' \u00b7 ' +
			    (e.signer && e.signer.entry ? e.signer.entry.org || e.signer.entry.name : '');
			li.setAttribute('data-seq', String(e.ev.seq));
			li.setAttribute('data-flags', marks.map(function (m) {
				return m.flag;
			}).join(' '));
			marks.forEach(function (m) {
				var span = li.appendChild(document.createElement('span'));

				span.className = 'flag ' + m.flag;
				span.setAttribute('data-flag', m.flag);
				span.textContent = m.zh + ' \u00b7 ' + m.en;
			});
		});
		$('status').hidden = false;
	}

	/*
	 * SPEC 8 "Revocation and compromise" and "Data from round 1", SPEC 9:
	 * what the fold says of statement s, in the words of the server's
	 * views (web/messages.tsv event.compromised, event.pending,
	 * event.round1, event.ignored), as {flag, zh, en}.
	 */
	function flags(f, s) {
		var out = [], nothing = { zh: '：此记录不改变任何状态', en: ': this statement changes nothing' },
		    held, by;

		if (s.compromised)
			out.push({ flag: 'compromised', zh: '使用已报告泄露的密钥签名' + (s.ignored ? nothing.zh : ''),
			    en: 'Signed with a key reported compromised' + (s.ignored ? nothing.en : '') });
		if (s.pending) {
			/* chain_item_awaits_witnesses(): ignored, or a pass the
			 * fold leaves out of the status until witnessed. */
			held = s.ignored || (s.type === 'inspection.completed' && s.data.result === 'pass');
			out.push({ flag: 'pending', zh: '等待见证：此记录在已见证的检查点之后记入日志：' +
			    (held ? '在见证方共同签名之前不生效' : '已立即生效'),
			    en: 'Awaiting witnesses: logged after the witnessed checkpoint: ' +
			    (held ? 'not applied until the witnesses cosign it' : 'counted now') });
		}
		if (s.withdrawnBy >= 0) {
			by = f.statements[s.withdrawnBy].seq;
			out.push({ flag: 'withdrawn', zh: '已被更正撤回（seq ' + by + '）',
			    en: 'Withdrawn by the correction at seq ' + by });
		}
		if (s.round1)
			out.push({ flag: 'round1', zh: '此记录按第一版规则判定' + (s.ignored ? nothing.zh : ''),
			    en: 'Judged by round-1 rules' + (s.ignored ? nothing.en : '') });
		return out;
	}

	/* Seconds since 1970 (or RFC 3339 text) as "YYYY-MM-DD HH:MM UTC". */
	function when(t) {
		var d = new Date(typeof t === 'number' ? t * 1000 : t);

		return isNaN(d.getTime()) ? String(t) :
		    d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
	}

	function memoryAlert(mem) {
		var box = $('memory-alert'), p, pre;

		box.textContent = '';
		box.setAttribute('data-kind', mem.state);
		p = box.appendChild(document.createElement('p'));
		p.textContent = mem.state === 'rollback' ?
		    '\u26a0 日志回退：本设备见过此日志更新的检查点，服务器现在却给出更旧的。' +
		    'Log rollback: this device has seen a newer checkpoint of this log than the server shows now (' +
		    mem.message + ').' :
		    '\u26a0 日志分叉：此日志向本设备展示了两个不同的历史。' +
		    'Log fork: the log has shown this device two different histories (' + mem.message + ').';
		p = box.appendChild(document.createElement('p'));
		p.textContent = '两个签名检查点如下（也保存在本浏览器中），可作为证据。' +
		    'Both signed checkpoints follow (also kept in this browser) as evidence.';
		[mem.remembered, mem.presented].forEach(function (note, i) {
			box.appendChild(document.createElement('p')).textContent = i === 0 ?
			    '本设备记住的 \u00b7 remembered by this device:' :
			    '服务器现在给出的 \u00b7 presented by the server now:';
			pre = box.appendChild(document.createElement('pre'));
			pre.className = 'evidence';
			pre.setAttribute('data-note', i === 0 ? 'remembered' : 'presented');
			pre.textContent = note;
		});
		box.hidden = false;
	}

	/* ---- the run ------------------------------------------------------- */

	function run() {
		var lot = route(window.location.hash), config, server, bundle, report, witnessed = null;

		if (lot === null) {
			verdict('unavailable', '请扫描产品上的二维码', 'Open this page with a lot: #01/{gtin}/10/{lot}');
			return;
		}
		text('lot', 'GTIN ' + lot.gtin + ' \u00b7 ' + lot.lot + (lot.serial ? ' \u00b7 ' + lot.serial : ''));
		get('config.json').then(function (c) {
			config = c;
			if (!config || typeof config.rootPublic !== 'string' || typeof config.logVkey !== 'string')
				stop('unavailable', '配置无效', 'config.json is malformed');
			server = serverOf(config);
			text('detail-server', server);
			text('detail-log', config.logVkey.split('+')[0]);
			return get(server + lot.path);
		}).then(function (b) {
			bundle = b;
			if (!bundle || bundle.chain !== lot.chain)
				stop('failed', '服务器给出了另一批次的记录', 'The server answered with another lot\'s records',
				    String(bundle && bundle.chain));
			return T.verifyBundle(bundle, config.logVkey, T.bytes(config.rootPublic));
		}).then(function (r) {
			report = r;
			if (report.failures.length > 0)
				stop('failed', '验证失败：记录无法用固定的密钥验证', 'Verification failed with the pinned keys',
				    report.failures.slice(0, 3).map(function (x) {
					return x.subject + ' ' + x.position + ': ' + x.code + ' (' + x.message + ')';
				    }).join('; '));
			if (typeof config.policy === 'string' && config.policy !== '')
				return quorum(bundle.checkpoint, config.policy, config.logVkey).then(function (q) {
					witnessed = q;
					text('detail-witnesses', q.names.map(function (n) {
						return n + ' ' + new Date(q.got[n] * 1000).toISOString().replace('.000', '');
					}).join(', '));
				});
			text('detail-witnesses', '未固定见证策略 · no witness policy pinned');
		}).then(function () {
			return T.checkMemory(bundle.checkpoint, report.checkpoint, config.logVkey,
			    T.consistencyFrom(server));
		}).then(function (mem) {
			text('detail-memory', mem.state === 'off' ? '无（浏览器存储已关闭）· nothing (storage off)' :
			    '日志大小 · log size ' + report.checkpoint.size + ' (' + mem.state + ')');
			if (mem.state === 'fork' || mem.state === 'rollback') {
				memoryAlert(mem);
				stop('failed', mem.state === 'fork' ? '日志分叉' : '日志回退',
				    mem.state === 'fork' ? 'Log fork detected' : 'Log rollback detected', mem.message);
			}
			if (mem.state === 'unproven')
				stop('unavailable', '无法证明日志一致', 'The log could not prove it only grew', mem.message);
			/* SPEC 11: the lot index shows that nothing was left out. */
			return T.checkCompleteness(bundle, report, config.logVkey, T.bytes(config.rootPublic));
		}).then(function (c) {
			var age = Number(config.maxCheckpointAge) > 0 ? Number(config.maxCheckpointAge) : MAX_AGE;

			text('detail-complete', T.completenessText(c));
			$('detail-complete').setAttribute('data-state', c.state);
			if (c.state !== 'complete')
				stop('failed', '记录不完整：可能有记录被隐藏', 'The records are not complete: some may be hidden',
				    T.completenessText(c));
			showStatus(report, lot);
			if (witnessed !== null && Date.now() / 1000 - witnessed.newest > age) {
				$('verdict').setAttribute('data-reason', 'stale');
				stop('unavailable', '见证签名已过期', 'The newest witness cosignature is stale',
				    new Date(witnessed.newest * 1000).toISOString());
			}
			verdict('verified', '已验证：记录真实完整', 'Verified: the records are genuine',
			    report.signatures + ' \u00d7 Ed25519, ' + report.proofs + ' \u00d7 RFC 6962, ' +
			    (witnessed ? witnessed.names.length + ' \u00d7 cosignature/v1, ' : '') +
			    'log size ' + report.checkpoint.size);
		}).catch(function (e) {
			if (e instanceof Stop)
				verdict(e.state, e.zh, e.en, e.detail);
			else
				verdict('failed', '验证失败', 'Verification failed',
				    e && e.message ? e.message : String(e));
		});
	}

	window.addEventListener('hashchange', function () {
		window.location.reload();
	});
	run();
})();
