/** Phrase pools for the corpus. Plain, everyday call content; the model must learn structure, not words. */

export const GREETINGS = [
  'Hello?',
  'Hello, who is this?',
  'Hi, yes?',
  'Good morning.',
  'Hello, speaking.',
  'Yeah, hello?',
];

export const AGENT_OPENINGS = [
  'Thank you for calling, my name is Sam, how can I help you today?',
  'Good afternoon, customer service, this is Alex speaking.',
  'Hi there, you have reached the front desk, what can I do for you?',
  'Hello, thanks for holding, how can I help?',
];

export const CALLER_LINES = [
  'Hi, I am calling about my order from last week, it has not arrived yet.',
  'I wanted to check whether my appointment on Thursday is still on.',
  'Yes, I had a question about the bill I received this month.',
  'Could you tell me what time you close today?',
  'I think there was a mistake with the delivery address.',
  'My internet has been dropping out every evening since Monday.',
  'I would like to change my booking to next week if possible.',
  'Sure, my account number should be on the letter, let me find it.',
  'No, that is not what I meant, I was asking about the other one.',
  'Oh right, that makes sense, thank you for explaining.',
  'Can you hold on a second, I need to grab a pen.',
  'Okay, so the reference is on the top right of the page, is that right?',
  'Well, the thing is, I already tried restarting it twice.',
  'That works for me, what do I need to bring with me?',
];

export const AGENT_LINES = [
  'Let me pull that up for you, one moment please.',
  'I can see your order here, it looks like it was delayed at the depot.',
  'Yes, your appointment is confirmed for Thursday at ten.',
  'I am sorry about that, I can fix the address right now.',
  'We close at six today, and at four on Saturdays.',
  'Could you confirm the first line of your address for me?',
  'I have made that change, you should get an email shortly.',
  'Is there anything else I can help you with today?',
  'Right, and when did you first notice the problem?',
  'Okay, I will send a technician out on Friday morning.',
  'Just to confirm, that is the blue one and not the black one?',
  'No problem at all, take your time.',
];

export const BACKCHANNELS = ['Mm-hmm.', 'Yeah.', 'Okay.', 'Right.', 'I see.', 'Uh-huh.', 'Sure.'];

export const LONG_STORY = [
  'So what happened was, I went to the shop on Saturday morning, and they told me the part would be in by Tuesday.',
  'Then on Tuesday I called them and they said it was still on the way, and that it might take another week.',
  'I explained that I need the car for work, and I drive about forty miles every day, so it is really a problem.',
  'Anyway, my neighbour said I should call you directly, because you might be able to speed things up.',
  'And honestly I have been a customer for years, and this is the first time anything like this has happened.',
  'So I am just hoping there is something you can do, even a loan car or something like that would help.',
];

export const CLOSINGS = [
  'Thanks so much, bye.',
  'Great, thank you, goodbye.',
  'Okay, have a nice day.',
  'Bye now.',
];

/** Prerecorded robocall scripts. A campaign is one script in one voice, reused across many calls. */
export const ROBOCALL_SCRIPTS = [
  'This is an important message regarding your vehicle warranty. Our records show that your factory warranty is about to expire. Press one now to speak with a specialist, or press two to be removed from our list.',
  'Hello, this is the tax office calling about an urgent matter. A lawsuit has been filed under your name. To avoid legal action, you must call us back immediately at the number provided.',
  'Congratulations! You have been selected for a free cruise to the Bahamas. To claim your prize, stay on the line and a representative will be with you shortly.',
  'This is a courtesy call from your credit card services. You qualify for a lower interest rate on your current balance. This offer expires today, so press one to take advantage now.',
  'We are calling to inform you that suspicious activity has been detected on your account. Your account will be suspended within twenty four hours unless you verify your identity.',
  'Hi, this is Jennifer from account services. There is no problem with your account at this time, but you are eligible for a special reduction on your monthly payments.',
  'Your package could not be delivered due to an incomplete address. Please press one to speak with a delivery agent and confirm your details to reschedule.',
  'This message is for the homeowner. Due to recent changes in energy policy, you may qualify for free solar panels. Press one to check your eligibility.',
];

export const IVR_PROMPTS = [
  'Welcome. For billing, press one. For technical support, press two. For all other enquiries, press three.',
  'Please enter your four digit PIN, followed by the pound key.',
  'Please enter your account number, followed by the hash key.',
  'To hear your balance, press one. To speak with an agent, press zero.',
];

export const CARD_PROMPTS = [
  'Please enter your sixteen digit card number now.',
  'To complete your payment, key in your card number followed by the hash key.',
  'Please enter the long number on the front of your card.',
];

export const ANNOUNCEMENTS = [
  'The number you have dialed is not in service. Please check the number and try again.',
  'All circuits are busy now. Please try your call again later.',
  'Please hold, your call is important to us. You will be connected shortly.',
];
