"""The web UI's words in Japanese (the default) and English (pure; no I/O).

`text(lang)` gives the page words of one language; `reason_text` explains a refusal from the
card or the registrar (`jpki.reasons`) in the voter's language.
"""

from __future__ import annotations

from jpki.reasons import Reason, explain

__all__ = ["LANGS", "reason_text", "text"]

LANGS = ("ja", "en")

_JA: dict[str, str] = {
    "site": "tohyo 投票",
    "skip": "本文へ移動",
    "switch": "English",
    "switch_lang": "en",
    "steps_label": "手順",
    "step_election": "選挙",
    "step_code": "投票コード",
    "step_choose": "選択",
    "step_review": "確認",
    "step_card": "カード",
    "step_cast": "投票",
    "step_receipt": "受領証",
    "elections_title": "選挙を選んでください",
    "elections_intro": "いま投票できる選挙です。投票資格（年齢・住所）は、"
    "カードで本人確認するときに確かめられます。",
    "elections_none": "いま投票を受け付けている選挙はありません。",
    "election_day": "選挙期日",
    "voting_period": "投票期間",
    "eligible": "投票できる人",
    "eligible_value": "{areas}に住む{age}歳以上の人",
    "choose_this": "この選挙で投票する",
    "fingerprint": "選挙の確認番号",
    "fingerprint_hint": "お手元の投票コードの通知に書かれた確認番号と同じか確かめてください。"
    "違うときは投票しないでください。",
    "code_title": "投票コードを入力してください",
    "code_label": "投票コード（はがきに書かれた16文字）",
    "code_hint": "例: ABCD-EFGH-JKLM-NPQR。ハイフンや空白はあってもなくてもかまいません。",
    "next": "次へ",
    "back": "戻る",
    "choose_title": "投票先を選んでください",
    "rule_single": "1つ選んでください。",
    "rule_k_of_n": "{min}〜{max}個選んでください。",
    "rule_ranked": "好きな順に番号をつけてください（{min}〜{max}個）。",
    "rule_ties": "同じ順位をつけることができます。",
    "blank": "白票（だれも選ばない）",
    "rank_none": "順位なし",
    "party": "所属",
    "photo_of": "{name}の写真",
    "reading": "よみ",
    "to_review": "確認画面へ",
    "not_chosen": "「{title}」で何も選ばれていません。選ぶか、白票を選んでください。",
    "blank_and_option": "「{title}」で白票と候補の両方が選ばれています。"
    "どちらか一方にしてください。",
    "invalid_choice": "「{title}」の選び方は数えられません。{rule}",
    "review_title": "投票内容の確認",
    "review_intro": "次の内容で暗号化しました。変更するときは「変更」を押してください。",
    "change": "変更",
    "change_contest": "「{title}」を変更",
    "blank_vote": "白票",
    "rank_n": "{rank}位",
    "tracker": "暗号化された票の識別番号",
    "revote_last": "この選挙では投票をやり直せます。あとから投票すると、"
    "前の票の代わりにその票だけが数えられます。",
    "revote_first": "この選挙では最初の票だけが数えられます。投票したあとで変えることはできません"
    "。",
    "to_card": "カードで本人確認へ進む",
    "audit_heading": "暗号化を確かめる（ベナロー・チャレンジ）",
    "audit_explain": "投票せずに、この暗号化が選んだ内容どおりか確かめることができます。"
    "確かめた票は使えなくなり（無効にされ）、あとで新しく暗号化して投票します。",
    "audit_button": "投票せずにこの暗号化を確かめる",
    "card_title": "マイナンバーカードで本人確認",
    "card_intro": "カードをカードリーダーに置いて、署名用電子証明書のパスワード"
    "（英数字6〜16文字）を入力してください。",
    "tries_left": "パスワードはあと{n}回まちがえるとロックされます。",
    "password": "署名用パスワード",
    "sign_button": "カードで署名する",
    "cast_title": "投票します",
    "cast_intro": "票は暗号化され、カードで署名されました。まだ送信していません。",
    "cast_button": "この内容で投票する",
    "not_cast_note": "投票しない場合はこの画面を閉じてください。何も送信されません。",
    "receipt_title": "投票しました",
    "receipt_replaced": "この票は、前に投票した票の代わりになりました。"
    "数えられるのはこの票だけです。",
    "receipt_first": "これはこの選挙でのあなたの最初の票です。",
    "receipt_saved": "受領証をこのコンピューターに保存しました:",
    "receipt_index": "掲示板の記録番号",
    "receipt_entry": "記録のハッシュ値",
    "receipt_download": "受領証をダウンロード",
    "check_button": "受領証を掲示板で確かめる",
    "receipts_title": "保存した受領証",
    "receipts_none": "保存した受領証はありません。",
    "check_title": "受領証の確認",
    "check_ok": "あなたの票は掲示板の記録に含まれています（記録番号 {index}）。"
    "掲示板の履歴は受領証と一致しています。",
    "check_forged": "この受領証は、この掲示板がこの票に発行したものではありません。"
    "何の証明にもなりません。",
    "check_missing": "あなたの票は、受領証が示す場所で掲示板の記録に見つかりません。"
    "受領証を保管し、選挙の監視者に知らせてください。",
    "check_not_yours": "警告: 受領証が示す場所にある記録は、あなたの票ではありません。"
    "受領証を保管し、選挙の監視者に知らせてください。",
    "check_forked": "警告: 掲示板の履歴が受領証と矛盾しています"
    "（記録が書き換えられたか分岐しています）。受領証を保管し、選挙の監視者に知らせてください。",
    "audit_title": "暗号化の確認結果",
    "audit_passed": "確認できました。この票は次の内容を正しく暗号化していました:",
    "audit_failed": "確認に失敗しました（{check}）。この端末は選んだ内容と違うものを暗号化しました"
    "。この端末で投票しないでください。",
    "audit_spoiled": "この票は確認のために無効にされ、送信されていません。",
    "audit_download": "確認用ファイルをダウンロード（tohyo verify ballot で確かめられます）",
    "audit_again": "新しく暗号化して投票に進む",
    "error_title": "エラー",
    "csrf": "この操作は受け付けられません。ページを読み込み直して、もう一度お試しください。",
    "board_unreachable": "投票の掲示板（{board}）に接続できません。何も送信されていません。"
    "しばらくしてからもう一度お試しください。",
    "board_bad": "掲示板の確認に失敗しました（{detail}）。この掲示板では投票しないでください。",
    "not_recorded": "警告: 掲示板は受け付けたと答えましたが、その受領証はあなたの票が記録に"
    "あることを示していません（{check}）。票が捨てられたか差し替えられたおそれがあります。"
    "証拠は受領証フォルダの {file} にあります。選挙の監視者に渡し、"
    "別の接続から投票し直してください。",
    "no_reader": "カードリーダーが見つかりません。カードリーダーをつないで、"
    "もう一度お試しください。",
    "no_card": "カードが読み取れません。カードをカードリーダーに正しく置いて、"
    "もう一度お試しください。",
    "password_empty": "パスワードを入力してください。",
    "password_format": "署名用パスワードは英数字6〜16文字です。カードには送っていません"
    "（残り回数は減っていません）。",
    "code_bad_format": "投票コードの形式が正しくありません。はがきの16文字を確かめてください。"
    "何も送信されていません。",
    "not_voting": "この選挙はいま投票を受け付けていません。",
    "no_election": "先に選挙を選んでください。",
    "refused": "票は受け付けられませんでした: {detail} 票は記録されていません。",
    "not_found": "ページが見つかりません。",
    "start_over": "最初から",
}

_EN: dict[str, str] = {
    "site": "tohyo voting",
    "skip": "Skip to main content",
    "switch": "日本語",
    "switch_lang": "ja",
    "steps_label": "Steps",
    "step_election": "Election",
    "step_code": "Voting code",
    "step_choose": "Choose",
    "step_review": "Review",
    "step_card": "Card",
    "step_cast": "Cast",
    "step_receipt": "Receipt",
    "elections_title": "Choose an election",
    "elections_intro": "These elections are open for voting now. Your eligibility (age and "
    "address) is checked when you authenticate with your card.",
    "elections_none": "No election is open for voting now.",
    "election_day": "Election day",
    "voting_period": "Voting period",
    "eligible": "Who may vote",
    "eligible_value": "people aged {age} or over living in {areas}",
    "choose_this": "Vote in this election",
    "fingerprint": "Election fingerprint",
    "fingerprint_hint": "Check that it is the one printed on your voting-code letter. If it "
    "differs, do not vote here.",
    "code_title": "Enter your voting code",
    "code_label": "Voting code (the 16 characters on your postcard)",
    "code_hint": "For example ABCD-EFGH-JKLM-NPQR. Hyphens and spaces are optional.",
    "next": "Next",
    "back": "Back",
    "choose_title": "Make your choice",
    "rule_single": "Choose one.",
    "rule_k_of_n": "Choose {min} to {max}.",
    "rule_ranked": "Number the options in order of preference ({min} to {max} of them).",
    "rule_ties": "Options may share a rank.",
    "blank": "Blank vote (choose nobody)",
    "rank_none": "not ranked",
    "party": "Party",
    "photo_of": "Photo of {name}",
    "reading": "Reading",
    "to_review": "Review my ballot",
    "not_chosen": "Nothing is chosen in “{title}”. Choose, or choose a blank vote.",
    "blank_and_option": "In “{title}” both a blank vote and an option are chosen. Choose one "
    "or the other.",
    "invalid_choice": "These choices in “{title}” would not count. {rule}",
    "review_title": "Check your ballot",
    "review_intro": "This is what has been encrypted. Press “Change” to change anything.",
    "change": "Change",
    "change_contest": "Change “{title}”",
    "blank_vote": "Blank vote",
    "rank_n": "rank {rank}",
    "tracker": "Tracking number of the encrypted ballot",
    "revote_last": "You may vote again in this election: a later ballot replaces the earlier "
    "one, and only the last one counts.",
    "revote_first": "In this election only your first ballot counts; it cannot be changed "
    "after casting.",
    "to_card": "Continue to card authentication",
    "audit_heading": "Check the encryption (Benaloh challenge)",
    "audit_explain": "Instead of casting, you may check that this encryption holds exactly your "
    "choices. A checked ballot is spoiled; you then encrypt afresh to cast.",
    "audit_button": "Check this encryption instead of casting it",
    "card_title": "Authenticate with your My Number Card",
    "card_intro": "Place your card on the reader and enter the password of your signing "
    "certificate (6 to 16 letters and digits).",
    "tries_left": "{n} tries are left before the card locks the password.",
    "password": "Signing password",
    "sign_button": "Sign with my card",
    "cast_title": "Cast your ballot",
    "cast_intro": "Your ballot is encrypted and signed by your card. It has not been sent yet.",
    "cast_button": "Cast this ballot",
    "not_cast_note": "If you do not want to vote now, close this page. Nothing will be sent.",
    "receipt_title": "Your ballot was cast",
    "receipt_replaced": "It replaces the ballot you cast before: only this one will be counted.",
    "receipt_first": "This is your first ballot in this election.",
    "receipt_saved": "Your receipt is saved on this computer:",
    "receipt_index": "Entry number on the board",
    "receipt_entry": "Entry hash",
    "receipt_download": "Download the receipt",
    "check_button": "Check the receipt against the board",
    "receipts_title": "Saved receipts",
    "receipts_none": "No receipts are saved.",
    "check_title": "Receipt check",
    "check_ok": "Your ballot is in the record: entry {index}, and the board's history "
    "agrees with your receipt.",
    "check_forged": "This receipt was not issued by this board for this ballot; it proves nothing.",
    "check_missing": "Your ballot is NOT in the board's record at the place your receipt gives. "
    "Keep your receipt and report this to the election observers.",
    "check_not_yours": "WARNING: the entry at your receipt's place is NOT your ballot. Keep "
    "your receipt and report this to the election observers.",
    "check_forked": "WARNING: the board now shows a history that contradicts your receipt (the "
    "record was rewritten or forked). Keep your receipt and report this to the election "
    "observers.",
    "audit_title": "Result of the encryption check",
    "audit_passed": "Checked: this ballot correctly encrypted these choices:",
    "audit_failed": "The check FAILED ({check}): this device encrypted something other than "
    "your choices. Do not vote with this device.",
    "audit_spoiled": "This ballot was spoiled by the check and was not sent.",
    "audit_download": "Download the audit file (check it with tohyo verify ballot)",
    "audit_again": "Encrypt afresh and continue to vote",
    "error_title": "Error",
    "csrf": "This action was not accepted. Reload the page and try again.",
    "board_unreachable": "The bulletin board ({board}) cannot be reached. Nothing was sent. "
    "Please try again later.",
    "board_bad": "The board failed a check ({detail}). Do not vote there.",
    "not_recorded": "WARNING: the board said your ballot was accepted, but its receipt does "
    "NOT show your ballot in the record ({check}). Your ballot may have been dropped or "
    "replaced. The evidence is in {file} in your receipts folder: give it to the election "
    "observers, and vote again from another connection.",
    "no_reader": "No card reader was found. Connect the card reader and try again.",
    "no_card": "The card cannot be read. Place it flat on the reader and try again.",
    "password_empty": "Please enter the password.",
    "password_format": "The signing password is 6 to 16 letters and digits. It was not sent "
    "to the card (no try was used).",
    "code_bad_format": "This is not a voting code. Check the 16 characters on your postcard. "
    "Nothing was sent.",
    "not_voting": "This election is not open for voting now.",
    "no_election": "Please choose an election first.",
    "refused": "The ballot was not accepted: {detail} Nothing was recorded.",
    "not_found": "Page not found.",
    "start_over": "Start again",
}

_REASONS_JA: dict[Reason, str] = {
    Reason.WRONG_PASSWORD: "パスワードがちがいます。あと{tries_left}回まちがえると、"
    "カードのパスワードがロックされます。",
    Reason.PASSWORD_BLOCKED: "パスワードを何度もまちがえたため、カードのパスワードがロックされてい"
    "ます。市区町村の窓口で初期化してください（本人確認書類が必要です）。",
    Reason.CARD_ERROR: "カードが読み取れません。カードをカードリーダーに正しく置いて、"
    "もう一度お試しください。",
    Reason.MALFORMED_REQUEST: "投票ソフトウェアが不完全な要求を送りました。"
    "更新してからもう一度お試しください。",
    Reason.CERTIFICATE_UNTRUSTED: "カードの電子証明書は J-LIS が発行したものではありません。",
    Reason.CERTIFICATE_NOT_YET_VALID: "カードの電子証明書はまだ有効になっていません。",
    Reason.CERTIFICATE_EXPIRED: "カードの電子証明書の有効期限が切れています。"
    "市区町村の窓口で更新してください。",
    Reason.CERTIFICATE_REVOKED: "カードの電子証明書は失効しています（転居や氏名の変更のあとなど）"
    "。市区町村の窓口で新しく発行を受けてください。",
    Reason.CERTIFICATE_WRONG_USAGE: "投票に使えない電子証明書で署名されました。署名用パスワード"
    "（6〜16文字）を使ってください。",
    Reason.REVOCATION_UNKNOWN: "電子証明書の状態をいま確かめられません。"
    "しばらくしてからもう一度お試しください。",
    Reason.SIGNATURE_MISMATCH: "カードの署名がこの票と一致しません。何も記録されていません。"
    "もう一度投票してください。",
    Reason.NOT_ELIGIBLE_AGE: "選挙期日にこの選挙の投票年齢に達していません。",
    Reason.NOT_ELIGIBLE_RESIDENCE: "カードの住所は、この選挙の対象地域にありません。",
    Reason.NOT_ON_VOTER_ROLL: "この選挙の選挙人名簿に登録されていません。",
    Reason.VOTING_CODE_UNKNOWN: "投票コードがこの選挙のものではありません。"
    "はがきのコードを確かめてください。",
    Reason.VOTING_CODE_USED: "この投票コードは、すでにほかの人が使っています。",
}


def text(lang: str) -> dict[str, str]:
    """The page words of `lang` (Japanese for anything unknown)."""
    return _EN if lang == "en" else _JA


def reason_text(lang: str, reason: Reason, tries_left: int | None = None) -> str:
    """A refusal in plain words of `lang`."""
    if lang == "en":
        return explain(reason, tries_left=tries_left)
    words = _REASONS_JA[reason]
    return words.format(tries_left="何" if tries_left is None else tries_left)
